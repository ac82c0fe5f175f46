"""The Danish texts of negative receipts: one readable sentence per error code.

A CTL02 must tell a Danish clerk what is wrong and where ("Segment 26 (UNT): antal 25 svarer
ikke til 26 segmenter"). Errors carry an English message with the facts (numbers, codes);
each code's template picks those facts out of it with a pattern, and falls back to the
code's Danish title when the message has another shape.
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any

from gateway.edifact.errors import EdifactError
from gateway.model import RefusalCode

__all__ = ["danish_error_text", "danish_location", "vans_text", "TITLES"]

# code -> (Danish title, pattern over the English message, Danish template using its groups)
TITLES: dict[str, tuple[str, str | None, str | None]] = {
    # tokeniser and syntax (codec core)
    "UNA_INVALID": ("ugyldig UNA-segment", None, None),
    "UNTERMINATED": ("data efter sidste segmentafslutning", None, None),
    "ESCAPE": ("forkert brug af frigivelsestegnet ?", None, None),
    "SYNTAX_ID": ("ukendt syntaks-id (forventet UNOA, UNOB, UNOC eller UNOY)", None, None),
    "CHARSET": (
        "ulovligt tegn for tegnsættet",
        r"byte 0x(?P<b>[0-9A-F]{2}) is not allowed in (?P<cs>\w+)",
        "byten 0x{b} er ikke tilladt i {cs}",
    ),
    "BIN_TRUNCATED": ("binært objekt er afkortet", None, None),
    "BIN_LENGTH": ("længden af det binære objekt er ugyldig", None, None),
    "BIN_UNP": ("UNP svarer ikke til det binære objekt", None, None),
    "CLOSED": ("data efter afslutning", None, None),
    # envelope
    "NOT_EDIFACT": ("ikke en EDIFACT-forsendelse (starter hverken med UNA eller UNB)", None, None),
    "UNB_MISSING": ("UNB mangler", None, None),
    "UNB_DUPLICATE": ("UNB forekommer mere end én gang", None, None),
    "UNB_ELEMENT": (
        "UNB er ufuldstændig eller ugyldig",
        r"interchange control reference missing",
        "kuvertens kontrolreference mangler",
    ),
    "CONTRL_ACK_REQUEST": ("en kvittering må ikke bede om kvittering (UNB element 9)", None, None),
    "UNH_MISSING": ("UNH mangler", None, None),
    "UNH_EMPTY": ("UNH er tom", None, None),
    "UNH_ELEMENT": ("UNH er ufuldstændig", None, None),
    "UNT_MISSING": ("UNT mangler", None, None),
    "UNT_EMPTY": ("UNT er tom", None, None),
    "UNT_ELEMENT": ("UNT er ugyldig", None, None),
    "UNT_COUNT": (
        "forkert antal segmenter i UNT",
        r"count (?P<got>\S+) does not match (?P<n>\d+) segments",
        "antal {got} svarer ikke til {n} segmenter",
    ),
    "UNH_UNT_REF": (
        "UNT-reference svarer ikke til UNH-reference",
        r"reference (?P<got>\S*) does not match UNH reference (?P<want>\S*)",
        "reference {got} svarer ikke til UNH-reference {want}",
    ),
    "UNZ_MISSING": ("UNZ mangler", None, None),
    "UNZ_ELEMENT": ("UNZ er ugyldig", None, None),
    "UNZ_EMPTY": ("UNZ er tom", None, None),
    "UNZ_COUNT": (
        "forkert antal meddelelser i UNZ",
        r"count (?P<got>\S+) does not match (?P<n>\d+)",
        "antal {got} svarer ikke til {n} meddelelse(r)",
    ),
    "UNZ_REF": (
        "UNZ-reference svarer ikke til UNB-kontrolreference",
        r"reference (?P<got>\S*) does not match UNB control reference (?P<want>\S*)",
        "reference {got} svarer ikke til UNB-kontrolreference {want}",
    ),
    "NO_MESSAGES": ("forsendelsen indeholder ingen meddelelser", None, None),
    "AFTER_UNZ": ("data efter UNZ", None, None),
    "ENVELOPE": ("segmentet er ikke tilladt her i kuverten", None, None),
    # letter grammar (gateway.edifact.validate)
    "UNKNOWN_TYPE": (
        "ukendt brevtype",
        r"unknown letter type '(?P<t>[^']*)'",
        "brevtypen {t} kendes ikke",
    ),
    "UNH_IDENTIFIER": ("meddelelses-id i UNH passer ikke til brevtypen", None, None),
    "UNKNOWN_VERSION": (
        "ukendt version",
        r"version '(?P<v>[^']*)' is not a version of (?P<t>\w+)",
        "version {v} er ikke en version af {t}",
    ),
    "GROUP_UNEXPECTED": (
        "uventet segmentgruppe",
        r"segment group (?P<g>\w+) is not part of (?P<t>\w+)",
        "segmentgruppe {g} hører ikke til {t}",
    ),
    "GROUP_ORDER": (
        "segmentgruppe i forkert rækkefølge",
        r"segment group (?P<g>\w+) cannot come after group (?P<h>\w+)",
        "segmentgruppe {g} må ikke komme efter gruppe {h}",
    ),
    "GROUP_REPEAT": ("segmentgruppe gentaget for mange gange", None, None),
    "GROUP_MISSING": (
        "obligatorisk segmentgruppe mangler",
        r"mandatory segment group (?P<g>\w+) is missing",
        "obligatorisk segmentgruppe {g} mangler",
    ),
    "GROUP_TRIGGER": ("gruppesegment med forkert nummer", None, None),
    "REQUIRED_MISSING": (
        "obligatorisk oplysning mangler",
        r"needs (?P<what>.*)$",
        "obligatorisk {what} mangler",
    ),
    "SEGMENT_UNEXPECTED": (
        "uventet segment",
        r"segment (?P<s>\w+) is not allowed in",
        "uventet segment {s}",
    ),
    "SEGMENT_ORDER": (
        "segment i forkert rækkefølge",
        r"segment (?P<s>\w+) cannot come after (?P<p>\w+)",
        "segment {s} må ikke komme efter {p}",
    ),
    "SEGMENT_REPEAT": ("segment gentaget for mange gange", None, None),
    "SEGMENT_CONTEXT": (
        "segment uden sammenhæng",
        r"segment (?P<s>\w+) must follow a (?P<p>\w+)",
        "segment {s} skal stå efter et {p}-segment",
    ),
    "SEGMENT_MISSING": (
        "obligatorisk segment mangler",
        r"mandatory segment (?P<s>\w+)",
        "obligatorisk segment {s} mangler",
    ),
    "ELEMENT_MISSING": ("obligatorisk dataelement mangler", None, None),
    "ELEMENT_EXTRA": ("flere dataelementer eller komponenter end tilladt", None, None),
    "SEGMENT_RUN": ("kvitteringsteksten skal være ét samlet FTX-forløb", None, None),
    "CODE_UNKNOWN": (
        "ugyldig kode",
        r"'(?P<v>[^']*)' is not allowed here \(allowed: (?P<a>[^)]*)\)",
        "koden {v} er ikke tilladt her (tilladt: {a})",
    ),
    "VALUE_FORMAT": ("værdien har forkert form", None, None),
    "DTM_FORMAT": (
        "forkert datoformat",
        r"(?P<q>DTM\+\w+) must use format (?P<need>.*), not (?P<got>\w+)",
        "{q} skal have datoformat {need}, ikke {got}",
    ),
    "DTM_VALUE": (
        "ugyldig dato/tid",
        r"'(?P<v>\d*)' is not a valid (?P<f>\w+)",
        "{v} er ikke en gyldig dato/tid på formen {f}",
    ),
    "AGENCY_UNKNOWN": ("forkert ansvarlig myndighed for id-typen", None, None),
    "FTX_COMPONENTS": ("for mange tekstlinjer i ét FTX-segment (højst 5)", None, None),
    "FTX_LENGTH": ("tekstlinje længere end 70 tegn", None, None),
}


def danish_location(error: EdifactError) -> str:
    """``Segment 26 (UNT), element 1, komponent 3`` (as much as is known)."""
    if error.segment_no is not None:
        where = f"Segment {error.segment_no}" + (f" ({error.tag})" if error.tag else "")
    else:
        where = "Kuverten"
    if error.element is not None:
        where += f", element {error.element}"
        if error.component is not None:
            where += f", komponent {error.component}"
    return where


def danish_problem(error: EdifactError) -> str:
    title, pattern, template = TITLES.get(error.code, ("fejl i meddelelsen", None, None))
    if pattern and template:
        match = re.search(pattern, error.message)
        if match:
            return template.format(**match.groupdict())
    return title


def danish_error_text(error: EdifactError, control_ref: str = "") -> str:
    """The CTL02 text: which interchange/letter is refused, then where and what."""
    subject = f"EDI-brev {error.message_ref}" if error.message_ref else "EDI-kuvert"
    if control_ref:
        subject += f" i kuvert {control_ref}" if error.message_ref else f" {control_ref}"
    return f"{subject} er afvist. {danish_location(error)}: {danish_problem(error)}."


_VANS_REASONS = {
    RefusalCode.LOK: "modtagerlokationsnummer {recipient} har ikke kunnet identificeres",
    RefusalCode.MID: "der er problemer med modtager-id {recipient}",
    RefusalCode.VER: "modtageren kan ikke modtage denne brevtype eller version",
    RefusalCode.SYN: "kuverten indeholder syntaksfejl",
    RefusalCode.NC: "ikke specificeret fejl",
}


def vans_text(refusal: RefusalCode, original: Any, now: datetime) -> str:
    """The CTL01 text, in the words of MedCom's CTL01 sample."""
    sent = original.prepared_at or now
    reason = _VANS_REASONS[refusal].format(recipient=original.recipient)
    return (
        f"EDI-kuvert {original.control_ref} afsendt {sent:%d/%m %Y} kl {sent:%H.%M} "
        f"har ikke kunnet modtages: {reason}."
    )
