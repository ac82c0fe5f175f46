"""The EDIFACT segments the codec keeps in ``Letter.extra`` that OIOXML still carries.

The EDIFACT codec keeps segments it does not model as ``(where, "TAG+el+c1:c2")`` pairs in
``Letter.extra``. Three of them have an OIOXML form, and MedCom's XML->EDIFACT converter
writes one of the first two in every letter:

* ``("S11#1", "RFF+AHI:1")``: no episode identifier (written when XML has none);
* ``("S11#1", "RFF+REI:<id>")``: ``Letter/EpisodeOfCareIdentifier``;
* ``("S02#1", "RFF+NO:NC")``: XDIS91 ``Priority`` ``rutine`` (``høj_prioritet`` is
  ``Letter.priority == "NC"``, i.e. RFF+HI:NC).
"""

from __future__ import annotations

import re

NO_EPISODE = ("S11#1", "RFF+AHI:1")
ROUTINE = ("S02#1", "RFF+NO:NC")
HIGH_PRIORITY = "NC"  # Letter.priority as the codec reads RFF+HI:NC
_REI = re.compile(r"RFF\+REI:((?:\?.|[^?:+'])*)\Z")
_ESCAPE = re.compile(r"([?:+'])")


def episode_extra(identifier: str | None) -> tuple[str, str]:
    if identifier is None:
        return NO_EPISODE
    return ("S11#1", "RFF+REI:" + _ESCAPE.sub(r"?\1", identifier))


def episode_identifier(extra: tuple[tuple[str, str], ...]) -> str | None:
    """The EpisodeOfCareIdentifier an extras list carries, or None."""
    for where, segment in extra:
        if where == "S11#1" and (m := _REI.match(segment)):
            return re.sub(r"\?(.)", r"\1", m.group(1))
    return None


def represented(letter_type: str, extra: tuple[tuple[str, str], ...]) -> list[int]:
    """Indexes of the extras OIOXML carries (the rest is lost in XML)."""
    kept = []
    episode_seen = False
    for i, (where, segment) in enumerate(extra):
        if (
            where == "S11#1"
            and not episode_seen
            and ((where, segment) == NO_EPISODE or _REI.match(segment))
        ):
            kept.append(i)
            episode_seen = True
        elif letter_type == "DIS91" and (where, segment) == ROUTINE:
            kept.append(i)
    return kept
