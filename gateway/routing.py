"""Routing decisions: pure, table-driven, no IO (Starlette's ``matches()`` before ``handle()``).

A ``Route`` is one receiving endpoint: its GLN and the (type, versions) it accepts, as SOR/EER
registers them (MedCom 030_Governance-for-Network-Layer: a receiver must be registered with the
message type and version). ``decide_route`` walks the table and answers with a ``Match``:

* ``Match.FULL``: deliver to that endpoint;
* ``Match.UNKNOWN_RECEIVER``: no endpoint has that GLN -> CTL01 refusal LOK;
* ``Match.NOT_ACCEPTED``: the endpoint exists but does not take the type/version -> CTL01 VER.

Receipts (family CONTRL) are always accepted: every endpoint that sends letters must be able to
hear back about them.

A letter with a twin in another format (``TWINS``: a CareCommunication is a DIS91) also matches
an endpoint that takes only its twin, when the endpoint's ``deliver_as`` is the twin's side:
an EDIFACT-only GP takes a CareCommunication (delivered as a DIS91), a ``deliver_as = "fhir"``
endpoint that takes FDIS91 takes a DIS91 (delivered as a CareCommunication). The conversion
itself happens at delivery (gateway/pipeline/conversion.py).

The broker routing key carries the same facts, lower case:
``medcom.<format>.<family>.<type>.<version>.<receiver gln>``.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

from gateway.model import RefusalCode

RECEIPT_FAMILY = "CONTRL"

# (format, type) -> (twin type, twin version): the letter medbro writes for the other side
# (gateway.fhir.convert; the DIS91 it writes is D9134L, a CareCommunication names no version).
TWINS: dict[tuple[str, str], tuple[str, str]] = {
    ("fhir", "FDIS91"): ("DIS91", "D9134L"),
    ("edifact", "DIS91"): ("FDIS91", ""),
    ("oioxml", "DIS91"): ("FDIS91", ""),
}


class Match(enum.Enum):
    FULL = "full"
    UNKNOWN_RECEIVER = "unknown_receiver"
    NOT_ACCEPTED = "not_accepted"

    @property
    def refusal(self) -> RefusalCode | None:
        """The CTL01 refusal code a network hop answers this outcome with."""
        return {
            Match.FULL: None,
            Match.UNKNOWN_RECEIVER: RefusalCode.LOK,
            Match.NOT_ACCEPTED: RefusalCode.VER,
        }[self]


@dataclass(frozen=True)
class Accept:
    """One letter type an endpoint takes, with the versions it takes (empty = any version)."""

    type: str
    versions: tuple[str, ...] = ()

    def covers(self, type_: str, version: str) -> bool:
        if self.type.upper() != type_.upper():
            return False
        return not self.versions or version.upper() in (v.upper() for v in self.versions)


@dataclass(frozen=True)
class RouteRequest:
    """What routing looks at: the facts of one message (from UNB and UNH)."""

    receiver_gln: str
    family: str
    type: str
    version: str
    format: str = "edifact"


def twin_of(request: RouteRequest, deliver_as: str) -> tuple[str, str] | None:
    """(type, version) of the twin an endpoint delivered ``deliver_as`` would get, or None
    when the message has none or stays on its side (FHIR to FHIR, EDIFACT to OIOXML)."""
    if (request.format == "fhir") == (deliver_as == "fhir"):
        return None
    return TWINS.get((request.format, request.type.upper()))


@dataclass(frozen=True)
class Route:
    receiver_gln: str
    accepts: tuple[Accept, ...]
    deliver_as: str = "edifact"

    def takes(self, type_: str, version: str) -> bool:
        """Does the endpoint take this type and version as it is (no twin)?"""
        return any(a.covers(type_, version) for a in self.accepts)

    def matches(self, request: RouteRequest) -> Match:
        if request.receiver_gln != self.receiver_gln:
            return Match.UNKNOWN_RECEIVER
        if request.family.upper() == RECEIPT_FAMILY:
            return Match.FULL
        if self.takes(request.type, request.version):
            return Match.FULL
        twin = twin_of(request, self.deliver_as)
        if twin is not None and self.takes(*twin):
            return Match.FULL
        return Match.NOT_ACCEPTED


def decide_route(routes: dict[str, Route], request: RouteRequest) -> Match:
    """The outcome for ``request`` over a table keyed by receiver GLN."""
    route = routes.get(request.receiver_gln)
    if route is None:
        return Match.UNKNOWN_RECEIVER
    return route.matches(request)


def routing_key(request: RouteRequest) -> str:
    """``medcom.edifact.meddis.dis01.d0133l.5790000128686`` (AMQP topic words, lower case)."""
    words = ("medcom", request.format, request.family, request.type, request.version)
    cleaned = [_word(w) for w in words]
    return ".".join([*cleaned, _word(request.receiver_gln)])


def _word(value: str) -> str:
    # A topic word must not contain the separator or the wildcards.
    text = (value or "none").lower()
    return "".join(c if c.isalnum() or c in "-_" else "_" for c in text)
