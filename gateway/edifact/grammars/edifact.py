"""Layer 1, EDIFACT defaults: what a segment always holds, wherever a letter type allows it.

These rules are merged under every letter type's rule for the same tag (the letter type may
tighten them). Positions are "element.component", 1-based.
"""

SEGMENT_DEFAULTS = {
    # C507: qualifier, value, format code (102 CCYYMMDD, 203 CCYYMMDDHHMM, 204 ...SS)
    "DTM": {
        "required": ["1.1", "1.2", "1.3"],
        "codes": {"1.3": ["102", "203", "204"]},
        "names": {"1.1": "qualifier", "1.2": "date/time", "1.3": "format"},
    },
    "NAD": {"required": ["1.1"], "names": {"1.1": "party qualifier", "2.2": "id scheme"}},
    "PNA": {"required": ["1.1"], "names": {"1.1": "party qualifier"}},
    "RFF": {"required": ["1.1"], "names": {"1.1": "reference qualifier", "1.2": "reference"}},
    "GIS": {"required": ["1.1"], "names": {"1.1": "status code"}},
    "PAS": {"required": ["1.1"], "names": {"1.1": "episode status"}},
    "CIN": {
        "required": ["1.1"],
        "names": {"1.1": "diagnosis qualifier", "2.1": "code", "2.2": "code list"},
    },
    "FTX": {
        "required": ["1.1", "2.1"],
        "patterns": {"2.1": r"^[A-Z0-9]{3}$"},
        "names": {"1.1": "text qualifier", "2.1": "format code"},
    },
    "BGM": {"required": ["1.1"], "names": {"1.1": "document name code"}},
    "SPR": {"required": ["1.1"], "names": {"1.1": "organisation qualifier"}},
    "REL": {"required": ["1.1"], "names": {"1.1": "relation qualifier", "2.1": "relation"}},
    "UCI": {
        "required": ["2.1", "3.1", "4.1"],
        "names": {"1.1": "original control ref", "4.1": "action"},
    },
    "UCM": {
        "required": ["1.1", "2.1", "3.1"],
        "names": {"1.1": "original message ref", "3.1": "action"},
    },
}

# Party id schemes (NAD element 2 component 2) and their responsible agencies (component 3).
PARTY_SCHEMES = ["SKS", "YNR", "KOM", "EAN", "SOR", ""]
PARTY_AGENCIES = {"SKS": ["SST"], "YNR": ["SFU"], "KOM": ["IM"]}
