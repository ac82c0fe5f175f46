"""A form as an ordered tree of named text values: the one walk every LÆ codec shares.

XML (gateway.forms.xml) and the DIS91 profile (gateway.forms.edifact_profile) both go
form -> tree -> wire and wire -> tree -> form, so the field names, the order and the text
form of each value (ISO dates, enum values) are decided once, here, from the dataclass fields.
A ``Node`` is either a text value or a list of ``(name, Node)`` children; ``None`` fields are
left out and repeated fields become one child per item, named by the field's ``item`` metadata.
"""

from __future__ import annotations

import dataclasses
import enum
import types
import typing
from datetime import date, datetime
from functools import cache
from typing import Any, Union

from gateway.forms.errors import FieldError, FormValidationError

Node = Union[str, list[tuple[str, "Node"]]]  # noqa: UP007 - a recursive alias needs Union


class Items(list):  # type: ignore[type-arg]
    """The children of a repeated field (one per item), told apart from a group's fields."""


@cache
def _hints(cls: type) -> dict[str, Any]:
    return typing.get_type_hints(cls)


def _unwrap_optional(tp: Any) -> tuple[Any, bool]:
    if typing.get_origin(tp) in (Union, types.UnionType):
        args = [a for a in typing.get_args(tp) if a is not type(None)]
        if len(args) == 1:
            return args[0], True
    return tp, False


def fields_of(cls: type) -> list[tuple[dataclasses.Field[Any], Any]]:
    """The init fields of a form dataclass with their resolved types, in declaration order."""
    hints = _hints(cls)
    return [(f, hints[f.name]) for f in dataclasses.fields(cls) if f.init]


def _text(value: Any) -> str:
    if isinstance(value, enum.Enum):
        return str(value.value)
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def dump(obj: Any) -> list[tuple[str, Node]]:
    """The tree of a dataclass instance: ``[(field name, text or children), ...]``."""
    out: list[tuple[str, Node]] = []
    for f, tp in fields_of(type(obj)):
        value = getattr(obj, f.name)
        if value is None:
            continue
        inner, _ = _unwrap_optional(tp)
        if typing.get_origin(inner) is tuple:
            item = f.metadata.get("item", "item")
            out.append((f.name, Items((item, _dump_value(v)) for v in value)))
        else:
            out.append((f.name, _dump_value(value)))
    return out


def _dump_value(value: Any) -> Node:
    if dataclasses.is_dataclass(value):
        return dump(value)
    return _text(value)


def load(cls: type, node: list[tuple[str, Node]], path: str) -> Any:
    """Build ``cls`` from its tree; every problem is collected and raised with its field path."""
    errors: list[FieldError] = []
    obj = _load(cls, node, path, errors)
    if errors:
        raise FormValidationError(errors)
    return obj


def _load(cls: type, node: Node, path: str, errors: list[FieldError]) -> Any:
    if isinstance(node, str):
        errors.append(FieldError(path, "expected fields, found a text value"))
        return None
    known = {f.name: (f, tp) for f, tp in fields_of(cls)}
    seen: dict[str, Node] = {}
    for name, child in node:
        if name not in known:
            errors.append(FieldError(f"{path}.{name}", "unknown field"))
        elif name in seen:
            errors.append(FieldError(f"{path}.{name}", "given more than once"))
        else:
            seen[name] = child
    kwargs: dict[str, Any] = {}
    for name, (f, tp) in known.items():
        where = f"{path}.{name}"
        if name not in seen:
            no_default = (
                f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING
            )
            if no_default:
                errors.append(FieldError(where, "missing"))
            continue
        inner, _ = _unwrap_optional(tp)
        child = seen[name]
        if typing.get_origin(inner) is tuple:
            kwargs[name] = _load_items(f, inner, child, where, errors)
        else:
            kwargs[name] = _load_value(inner, child, where, errors)
    if any(e.field == path or e.field.startswith((path + ".", path + "[")) for e in errors):
        return None
    return cls(**kwargs)


def _load_items(
    f: dataclasses.Field[Any], tp: Any, node: Node, path: str, errors: list[FieldError]
) -> tuple[Any, ...]:
    item_tp = typing.get_args(tp)[0]
    item = f.metadata.get("item", "item")
    if node == "":  # an empty element: no items
        return ()
    if isinstance(node, str):
        errors.append(FieldError(path, f"expected a list of {item}"))
        return ()
    out = []
    for i, (name, child) in enumerate(node, start=1):
        where = f"{path}[{i}]"
        if name != item:
            errors.append(FieldError(where, f"expected {item}, found {name}"))
            continue
        out.append(_load_value(item_tp, child, where, errors))
    return tuple(out)


def _load_value(tp: Any, node: Node, path: str, errors: list[FieldError]) -> Any:
    if dataclasses.is_dataclass(tp):
        return _load(tp, node, path, errors)
    if not isinstance(node, str):
        errors.append(FieldError(path, "expected a text value, found fields"))
        return None
    try:
        if tp is str:
            return node
        if tp is datetime:
            return datetime.fromisoformat(node)
        if tp is date:
            return date.fromisoformat(node)
        if tp is bool:
            if node not in ("true", "false"):
                raise ValueError(f"{node!r} is not true or false")
            return node == "true"
        if isinstance(tp, type) and issubclass(tp, enum.Enum):
            return tp(node)
    except ValueError as exc:
        errors.append(FieldError(path, f"invalid value {node!r} ({exc})"))
        return None
    raise TypeError(f"no tree rule for {tp!r} at {path}")  # a model bug, not bad input
