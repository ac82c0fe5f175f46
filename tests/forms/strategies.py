"""Hypothesis strategies for valid LÆ forms, with the text that is hardest to carry: several
lines, blank lines, leading and trailing spaces, lines that are "." or end in a backslash,
the profile's own markers (|, ~, @, #) and every ISO-8859-1 graphic character."""

from __future__ import annotations

from datetime import date, datetime

from hypothesis import strategies as st

from gateway.forms import (
    Answer,
    Attachment,
    AttachmentKind,
    Citizen,
    ClinicalFunction,
    GeneralPractitioner,
    Lae261,
    Lae265,
    Lae271,
    Lae275,
    Municipality,
    Parties,
)

LATIN1_GRAPHIC = st.characters(
    codec="latin-1", exclude_categories=("Cc",), include_characters="\n"
)
TRICKY_LINES = st.sampled_from(
    [".", "", " ", "\\", "a\\", "~", "x~", "| y", "@citizen.cpr", "#MEDBRO-LAE-1", "  ?:+'",
     "Ærø Øster Åby", "end \\ ", "x" * 150]
)
TEXT = st.lists(st.one_of(st.text(LATIN1_GRAPHIC.filter(lambda c: c != "\n"), max_size=90),
                          TRICKY_LINES), max_size=6).map("\n".join)
NONBLANK = st.tuples(st.text(LATIN1_GRAPHIC, min_size=1, max_size=1).filter(str.strip),
                     TEXT).map(lambda t: t[0] + t[1])
IDENT = st.from_regex(r"[A-Za-z0-9][A-Za-z0-9._:/-]{0,20}", fullmatch=True)
CPR = st.builds(lambda d, s: d.strftime("%d%m%y") + s,
                st.dates(date(1930, 1, 1), date(2008, 12, 31)),
                st.from_regex(r"[0-9]{4}", fullmatch=True))
WHEN = st.datetimes(datetime(2020, 1, 1), datetime(2030, 12, 31)).map(
    lambda d: d.replace(microsecond=0))
PARTIES = st.builds(
    Parties,
    municipality=st.builds(Municipality, st.from_regex(r"[0-9]{3}", fullmatch=True), TEXT, TEXT),
    gp=st.builds(GeneralPractitioner, st.from_regex(r"[0-9]{6}", fullmatch=True), TEXT),
    clinical_function=st.builds(ClinicalFunction, st.from_regex(r"[0-9]{6,18}", fullmatch=True),
                                TEXT),
)
HEAD = dict(form_id=IDENT, case_ref=IDENT, issued_at=WHEN,
            citizen=st.builds(Citizen, CPR, TEXT), parties=PARTIES)
# LÆ 261/265 are between the municipality and the GP: the clinical function is optional there
HEAD_GP = dict(HEAD, parties=st.one_of(PARTIES, PARTIES.map(
    lambda p: Parties(p.municipality, p.gp, None))))
ANSWERS = st.lists(st.builds(Answer, TEXT, NONBLANK), max_size=4).map(tuple)


def _certificate(cls: type, head: dict) -> st.SearchStrategy:
    return st.builds(cls, **head, in_reply_to=IDENT,
                     consultation_date=st.dates(date(2019, 1, 1), date(2019, 12, 31)),
                     health_conditions=NONBLANK, treatment_and_prognosis=NONBLANK,
                     functional_ability=NONBLANK, citizen_view=TEXT, answers=ANSWERS)


ATTACHMENTS = st.lists(st.builds(Attachment, st.sampled_from(AttachmentKind), TEXT, IDENT),
                       max_size=3).map(
    lambda extra: (Attachment(AttachmentKind.LAE265, "LÆ 265", "doc-265"),
                   Attachment(AttachmentKind.REHAB_PLAN, "Rehabiliteringsplan", "doc-plan"),
                   *extra))
FORMS = st.one_of(
    st.builds(Lae261, **HEAD_GP, background=NONBLANK, situation=NONBLANK,
              questions=st.lists(TEXT, max_size=4).map(tuple)),
    _certificate(Lae265, HEAD_GP),
    st.builds(Lae271, **HEAD, background=NONBLANK, coordinator_assessment=NONBLANK,
              questions=st.lists(TEXT, max_size=3).map(tuple), attachments=ATTACHMENTS),
    _certificate(Lae275, HEAD),
)
