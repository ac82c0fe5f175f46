"""The EDIFACT segments the codec keeps in ``Letter.extra`` that OIOXML still carries.

The EDIFACT codec keeps segments it does not model as ``(where, "TAG+el+c1:c2")`` pairs in
``Letter.extra``. Three of them have an OIOXML form, and MedCom's XML->EDIFACT converter
writes one of the first two in every letter:

* ``("S11#1", "RFF+AHI:1")``: no episode identifier (written when XML has none);
* ``("S11#1", "RFF+REI:<id>")``: ``Letter/EpisodeOfCareIdentifier``;
* ``("S02#1", "RFF+NO:NC")``: XDIS91 ``Priority`` ``rutine`` (``høj_prioritet`` is
  ``Letter.priority == "NC"``, i.e. RFF+HI:NC).

and one layout entry: ``("layout", "S11.CIN=<n>")``, how many leading diagnoses stand in S11
when that is not the codec's default (leading A/DM without a time). In XDIS01 the S11
diagnoses are ``Main`` (the A) and ``MainAdditional`` (DMs), the S14 ones ``Other``.
"""

from __future__ import annotations

import re

from gateway.model import Diagnosis, Letter

LAYOUT_KEY = "layout"
S11_CIN = "S11.CIN="
NO_EPISODE = ("S11#1", "RFF+AHI:1")
ROUTINE = ("S02#1", "RFF+NO:NC")
HIGH_PRIORITY = "NC"  # Letter.priority as the codec reads RFF+HI:NC
_REI = re.compile(r"RFF\+REI(?::((?:\?.|[^?:+'])*))?\Z")
_ESCAPE = re.compile(r"([?:+'])")


def episode_extra(identifier: str | None) -> tuple[str, str]:
    if identifier is None:
        return NO_EPISODE
    if not identifier:  # EDIFACT drops a trailing empty component
        return ("S11#1", "RFF+REI")
    return ("S11#1", "RFF+REI:" + _ESCAPE.sub(r"?\1", identifier))


def episode_identifier(extra: tuple[tuple[str, str], ...]) -> str | None:
    """The EpisodeOfCareIdentifier an extras list carries, or None."""
    for where, segment in extra:
        if where == "S11#1" and (m := _REI.match(segment)):
            return re.sub(r"\?(.)", r"\1", m.group(1) or "")
    return None


# XDIS20 (NotificationOfAdmission): the S11 GIS+N and GIS+P MedCom's converter writes in every
# DIS20, and RFF+REI = Letter/NotificationIdentifier.
NOTIFICATION_GIS = (("S11#1", "GIS+N"), ("S11#1", "GIS+P"))


# Extras each letter type's OIOXML says besides the episode identifier.
_KEPT_BY_TYPE = {"DIS91": (ROUTINE,), "DIS20": NOTIFICATION_GIS}


def notification_extra(identifier: str) -> tuple[tuple[str, str], ...]:
    """The extras an XDIS20 NotificationIdentifier stands for."""
    return (*NOTIFICATION_GIS, episode_extra(identifier))


def notification_identifier(extra: tuple[tuple[str, str], ...]) -> str | None:
    return episode_identifier(extra)


def represented(letter: Letter) -> list[int]:
    """Indexes of the extras OIOXML carries (the rest is lost in XML)."""
    letter_type, extra = letter.type, letter.extra
    kept = []
    layout = layout_index(extra)
    if layout is not None and letter_type == "DIS01" and s11_fits(letter):
        kept.append(layout)
    episode_seen = False
    for i, (where, segment) in enumerate(extra):
        if (
            where == "S11#1"
            and not episode_seen
            and ((where, segment) == NO_EPISODE or _REI.match(segment))
        ):
            kept.append(i)
            episode_seen = True
        elif (where, segment) in _KEPT_BY_TYPE.get(letter_type, ()):
            kept.append(i)
    return kept


def default_s11_count(diagnoses: tuple[Diagnosis, ...] | list[Diagnosis]) -> int:
    """How many leading diagnoses the EDIFACT codec puts in S11 unless told otherwise."""
    cut = 0
    while cut < len(diagnoses) and diagnoses[cut].kind in ("A", "DM") and diagnoses[cut].at is None:
        cut += 1
    return cut


def layout_index(extra: tuple[tuple[str, str], ...]) -> int | None:
    for i, (where, value) in enumerate(extra):
        if where == LAYOUT_KEY and value.startswith(S11_CIN) and value[len(S11_CIN) :].isdigit():
            return i
    return None


def s11_count(letter: Letter) -> int:
    i = layout_index(letter.extra)
    if i is None:
        return default_s11_count(letter.diagnoses)
    return int(letter.extra[i][1][len(S11_CIN) :])


def layout_extra(diagnoses: tuple[Diagnosis, ...], in_s11: int) -> tuple[str, str] | None:
    if in_s11 == default_s11_count(diagnoses):
        return None
    return (LAYOUT_KEY, f"{S11_CIN}{in_s11}")


def is_plain(diagnosis: Diagnosis) -> bool:
    """Main/MainAdditional carry code and text only: SKS, agency SST, no time."""
    return diagnosis.scheme == "SKS" and diagnosis.agency == "SST" and diagnosis.at is None


def s11_fits(letter: Letter) -> bool:
    """Can XDIS01 say which diagnoses stand in S11 (an optional A first, then DMs)?"""
    n = s11_count(letter)
    head = letter.diagnoses[:n]
    if n > len(letter.diagnoses) or not all(is_plain(d) for d in head):
        return False
    return all(d.kind == "DM" or (i == 0 and d.kind == "A") for i, d in enumerate(head))
