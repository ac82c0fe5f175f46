"""JSON form of the canonical model (``medbro parse`` output, API bodies, stored letters).

``dump(obj)`` turns a ``Letter`` or ``Receipt`` (or any model dataclass) into plain JSON values:
dataclass -> object with its field names, tuple -> list, enum -> its value, datetime -> ISO
local time ``YYYY-MM-DDTHH:MM`` (issue 2's contract). A DTM 204 time can have seconds; they are
not dropped but written beside it as ``"<field>_seconds": <n>`` (only when not zero). A
letter's object starts with ``"kind": "letter"``, a receipt's with ``"kind": "receipt"`` and
carries ``"accepted"``. ``load_letter``/``load_receipt`` invert it exactly:
``load_letter(dump(x)) == x``.
"""

from __future__ import annotations

import dataclasses
import enum
import types
import typing
from datetime import datetime
from functools import cache
from typing import Any

from gateway.errors import LocalUsageError
from gateway.model import Letter, Receipt

__all__ = ["dump", "load", "load_letter", "load_receipt", "format_datetime", "parse_datetime"]


SECONDS = "_seconds"


def format_datetime(value: datetime) -> str:
    return value.strftime("%Y-%m-%dT%H:%M")


def parse_datetime(text: str) -> datetime:
    return datetime.fromisoformat(text)


def dump(obj: Any) -> Any:
    """A JSON-able form of a model object (see module docstring)."""
    if isinstance(obj, Letter | Receipt):
        body = _dump(obj)
        head: dict[str, Any] = {"kind": "letter" if isinstance(obj, Letter) else "receipt"}
        if isinstance(obj, Receipt):
            head["accepted"] = obj.accepted
        return {**head, **body}
    return _dump(obj)


def _dump(obj: Any) -> Any:
    if dataclasses.is_dataclass(obj) and not isinstance(obj, type):
        out = {}
        for f in dataclasses.fields(obj):
            value = getattr(obj, f.name)
            out[f.name] = _dump(value)
            if isinstance(value, datetime) and value.second:
                out[f.name + SECONDS] = value.second
        return out
    if isinstance(obj, enum.Enum):
        return obj.value
    if isinstance(obj, datetime):
        return format_datetime(obj)
    if isinstance(obj, tuple | list):
        return [_dump(item) for item in obj]
    return obj


def load_letter(data: dict[str, Any]) -> Letter:
    """A ``Letter`` from ``dump``'s output; LocalUsageError naming the bad field."""
    return _load_class(Letter, data, "letter")


def load_receipt(data: dict[str, Any]) -> Receipt:
    """A ``Receipt`` from ``dump``'s output; LocalUsageError naming the bad field."""
    return _load_class(Receipt, data, "receipt")


def load(data: dict[str, Any]) -> Letter | Receipt:
    """A letter or receipt, chosen by ``kind``."""
    kind = data.get("kind") if isinstance(data, dict) else None
    if kind == "letter":
        return load_letter(data)
    if kind == "receipt":
        return load_receipt(data)
    raise LocalUsageError(f"kind must be 'letter' or 'receipt', not {kind!r}")


@cache
def _hints(cls: type) -> dict[str, Any]:
    return typing.get_type_hints(cls)


def _load_class(cls: type, data: Any, where: str) -> Any:
    if not isinstance(data, dict):
        raise LocalUsageError(f"{where}: expected an object, got {type(data).__name__}")
    hints = _hints(cls)
    names = {f.name for f in dataclasses.fields(cls)}
    values = {}
    seconds = {}
    for key, raw in data.items():
        if key in ("kind", "accepted") and key not in names:
            continue
        base = key[: -len(SECONDS)] if key.endswith(SECONDS) else ""
        if base in names and key not in names:
            if not isinstance(raw, int) or isinstance(raw, bool) or not 0 <= raw <= 59:
                raise LocalUsageError(f"{where}.{key}: expected seconds 0-59")
            seconds[base] = raw
            continue
        if key not in names:
            raise LocalUsageError(f"{where}: unknown field {key!r}")
        values[key] = _load_value(hints[key], raw, f"{where}.{key}")
    for key, second in seconds.items():
        if not isinstance(values.get(key), datetime):
            raise LocalUsageError(f"{where}.{key}{SECONDS}: {key} is not a time")
        values[key] = values[key].replace(second=second)
    try:
        return cls(**values)
    except TypeError as exc:
        raise LocalUsageError(f"{where}: {exc}") from exc


def _load_value(hint: Any, raw: Any, where: str) -> Any:
    origin = typing.get_origin(hint)
    if origin in (typing.Union, types.UnionType):
        options = [a for a in typing.get_args(hint) if a is not type(None)]
        if raw is None:
            return None
        return _load_value(options[0], raw, where)
    if origin is tuple:
        if not isinstance(raw, list):
            raise LocalUsageError(f"{where}: expected a list")
        args = typing.get_args(hint)
        if len(args) == 2 and args[1] is Ellipsis:
            return tuple(_load_value(args[0], item, f"{where}[{i}]") for i, item in enumerate(raw))
        if len(raw) != len(args):
            raise LocalUsageError(f"{where}: expected {len(args)} items")
        return tuple(
            _load_value(a, item, f"{where}[{i}]")
            for i, (a, item) in enumerate(zip(args, raw, strict=True))
        )
    if isinstance(hint, type) and issubclass(hint, enum.Enum):
        try:
            return hint(raw)
        except ValueError as exc:
            raise LocalUsageError(f"{where}: {raw!r} is not a {hint.__name__}") from exc
    if hint is datetime:
        if not isinstance(raw, str):
            raise LocalUsageError(f"{where}: expected YYYY-MM-DDTHH:MM")
        try:
            return parse_datetime(raw)
        except ValueError as exc:
            raise LocalUsageError(f"{where}: {raw!r} is not YYYY-MM-DDTHH:MM") from exc
    if dataclasses.is_dataclass(hint):
        return _load_class(hint, raw, where)
    if hint in (str, bool, int):
        if not isinstance(raw, hint) or (hint is int and isinstance(raw, bool)):
            raise LocalUsageError(f"{where}: expected {hint.__name__}, got {raw!r}")
        return raw
    raise LocalUsageError(f"{where}: cannot load a {hint!r}")
