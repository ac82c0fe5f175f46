"""The one table of segment text <-> parsed form that drives decoding and encoding tests.

Each row: (text as the encoder writes it, in UNOC/Latin-1 bytes, the pydifact Segment it means).
``DECODE_ONLY`` rows are inputs the encoder writes differently (e.g. trailing empty components,
which EDIFACT lets a writer omit and pydifact normalises away).
"""

from __future__ import annotations

from pydifact.segments import Segment

SEGMENT_CASES: list[tuple[bytes, Segment]] = [
    (
        b"UNH+BrevNr00129+MEDDIS:D:93A:UN:D0133L+DIS01'",
        Segment("UNH", "BrevNr00129", ["MEDDIS", "D", "93A", "UN", "D0133L"], "DIS01"),
    ),
    (b"BGM+EPI++9+NA'", Segment("BGM", "EPI", "", "9", "NA")),
    (b"DTM+137:199901151012:203'", Segment("DTM", ["137", "199901151012", "203"])),
    (
        b"NAD+SSP+2001060:SKS:SST++HILLER\xd8D SYGEHUS:KIRURGISK AFD. A::::US'",
        Segment(
            "NAD",
            "SSP",
            ["2001060", "SKS", "SST"],
            "",
            ["HILLERØD SYGEHUS", "KIRURGISK AFD. A", "", "", "", "US"],
        ),
    ),
    (b"PNA+PAT+1111111118:::CPR:IM'", Segment("PNA", "PAT", ["1111111118", "", "", "CPR", "IM"])),
    (b"SEQ++1'", Segment("SEQ", "", "1")),
    (b"GIS+N'", Segment("GIS", "N")),
    (b"UNT+26+24681012'", Segment("UNT", "26", "24681012")),
    (b"FTX+AAB++:A'", Segment("FTX", "AAB", "", ["", "A"])),
    (b"FTX+AAB+++'", Segment("FTX", "AAB", "", "", "")),
    # escapes of all five service characters (the reserved space needs none; see syntax.py)
    (
        b"FTX+AAB+++1?+1=2:a?:b:it?'s:50??:x y'",
        Segment("FTX", "AAB", "", "", ["1+1=2", "a:b", "it's", "50?", "x y"]),
    ),
    (b"FTX+AAB+++????'", Segment("FTX", "AAB", "", "", "??")),
    (b"FTX+AAB+++a?:b+c?+d'", Segment("FTX", "AAB", "", "", "a:b", "c+d")),
    # Latin-1 letters
    (
        "FTX+AAB+++Århus æøå ÆØÅ é ü ß §½:.'".encode("latin-1"),
        Segment("FTX", "AAB", "", "", ["Århus æøå ÆØÅ é ü ß §½", "."]),
    ),
]

DECODE_ONLY: list[tuple[bytes, Segment]] = [
    (b"NAD+PO+123:YNR::'", Segment("NAD", "PO", ["123", "YNR"])),
    (b"NAD+PO+123:::'", Segment("NAD", "PO", "123")),
    (b"NAD+PO+:'", Segment("NAD", "PO", "")),
    (b"FTX+AAB+++? ?''", Segment("FTX", "AAB", "", "", " '")),  # escaped reserved space
]
