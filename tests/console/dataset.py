"""A small known SLA data set and the figures the console must show for it.

Hospital 1301, department 1301011 (Danish workdays; 2025-03-04 is a Tuesday):

* March 2025: a letter the same day (within 1), one two days later (within 3, not 1), one ten
  days later (late), one never sent: a=4, b=3, c=2, d=1.
* April 2025: two letters the same day: a=2, b=2, c=2, d=2.

Department 1301022, March 2025: one letter the same day: a=1, b=1, c=1, d=1.
The clock stands at Tuesday 22 April 2025 13:00 (Copenhagen), so the default period (the last
twelve months) holds both months and the unsent March letter is breached on the worklist.
"""

from __future__ import annotations

from datetime import datetime

from gateway.sla.deadlines import COPENHAGEN
from gateway.sla.events_file import DischargeRecord

NOW = datetime(2025, 4, 22, 13, 0, tzinfo=COPENHAGEN)
CPR = "0101509991"  # fictitious test person


def record(dept: str, did: str, discharged: str, sent: str | None) -> DischargeRecord:
    return DischargeRecord(
        "1301", dept, did, datetime.fromisoformat(discharged),
        datetime.fromisoformat(sent) if sent else None, CPR)


RECORDS = (
    record("1301011", "M1", "2025-03-04T10:00", "2025-03-04T15:00"),
    record("1301011", "M2", "2025-03-05T10:00", "2025-03-07T09:00"),
    record("1301011", "M3", "2025-03-10T10:00", "2025-03-20T09:00"),
    record("1301011", "M4", "2025-03-11T10:00", None),
    record("1301011", "A1", "2025-04-01T10:00", "2025-04-01T12:00"),
    record("1301011", "A2", "2025-04-02T10:00", "2025-04-02T12:00"),
    record("1301022", "K1", "2025-03-12T08:00", "2025-03-12T14:00"),
)

# (department, month) -> a, b, c, d and the percentages the table shows
TABLE = {
    ("1301011", "2025-03"): (4, 3, 2, 1, "75,0 %", "50,0 %", "25,0 %"),
    ("1301011", "2025-04"): (2, 2, 2, 2, "100,0 %", "100,0 %", "100,0 %"),
    ("1301022", "2025-03"): (1, 1, 1, 1, "100,0 %", "100,0 %", "100,0 %"),
}
TOTAL = (7, 6, 5, 4, "85,7 %", "71,4 %", "57,1 %")
# the chart: per month over both departments, c/a and d/a
CHART = {"months": ["2025-03", "2025-04"], "within_3": [60.0, 100.0], "within_1": [40.0, 100.0]}


def load(sessions) -> None:
    """Write the data set through the SLA importer (the same path as ``medbro sla import``)."""
    from gateway.sla.config import DEFAULT_CONFIG
    from gateway.sla.importer import import_records

    with sessions() as session, session.begin():
        import_records(session, RECORDS, DEFAULT_CONFIG)
