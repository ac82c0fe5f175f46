"""Layers 3 and 4 for MEDDIS: the epikrise layout and each letter type's tightening.

Derived from MedCom's converter stylesheets (D0133L, D1730C, D2030C: which groups, which
qualifiers, which PAS codes and DTM formats each type accepts) and checked against every
MEDDIS sample in the corpus. Group order is S01 parties, S02 letter, S05 referral, S07 patient,
S09 relatives, S11 episode, S14 diagnoses and clinical text.
"""

from gateway.edifact.grammars.edifact import PARTY_AGENCIES, PARTY_SCHEMES
from gateway.edifact.grammars.medcom import IDENTIFIERS, LETTER, version

# CIN qualifiers MedCom maps (D0133L "DiagnoseDescriptionCode") and diagnosis code lists.
CIN_KINDS = ["DI", "H", "B", "DM", "A", "G", "M", "S", "TR", "IN"]
DIAGNOSIS_SCHEMES = ["SKS", "USP", "ICP"]
FTX_REFERENCES = ["BIN", "SUP", "URL"]

FAMILY = {
    "family": "MEDDIS",
    "identifier": IDENTIFIERS["MEDDIS"],
    "depth": "deep",
    "header": {
        "segments": {
            "BGM": {"codes": {"1.1": ["EPI"]}},
            "DTM": {"formats": {"137": ["203"]}},
        }
    },
    "groups": {
        "S01": {
            "min": 2,
            "max": 99,
            "segments": {
                "NAD": {
                    "min": 1,
                    "max": 1,
                    "codes": {"1.1": ["SSP", "PO", "CCR", "RSP"], "2.2": PARTY_SCHEMES},
                    "agencies": PARTY_AGENCIES,
                },
                "ADR": {"max": 1},
                "CON": {"max": 9},
                "RFF": {"max": 9, "codes": {"1.1": ["LOC", "AHL", "BUH"]}},
                "SEQ": {"max": 1},
                "SPR": {"max": 1, "codes": {"1.1": ["ORG"]}, "agencies": PARTY_AGENCIES},
            },
        },
        "S02": {
            "min": 1,
            "max": 1,
            "segments": {
                "GIS": {"min": 1, "max": 1, "codes": {"1.1": ["N", "M"]}},
                "RFF": {
                    "min": 1,
                    "max": 3,
                    "required": ["1.2"],
                    "codes": {"1.1": ["SRI", "HI", "NO"]},
                },
                "DTM": {"min": 1, "max": 1, "codes": {"1.1": ["182"]}, "formats": {"182": ["203"]}},
            },
        },
        "S05": {
            "max": 1,
            "segments": {
                "GIS": {"max": 1, "codes": {"1.1": ["N", "M"]}},
                "RFF": {"min": 1, "max": 1, "codes": {"1.1": ["ROI"]}},
                "DTM": {"max": 1, "codes": {"1.1": ["8"]}, "formats": {"8": ["203"]}},
                "CIN": {"max": 9, "codes": {"1.1": ["DI", "DM"], "2.2": DIAGNOSIS_SCHEMES}},
            },
        },
        "S07": {
            "min": 1,
            "max": 1,
            "segments": {
                "PNA": {
                    "min": 1,
                    "max": 1,
                    "codes": {"1.1": ["PAT"]},
                    "patterns": {"2.1": r"^([0-9A-Z]{10})?$"},
                },
                "RFF": {"max": 3},
                "ADR": {"max": 1},
                "CON": {"max": 9},
                "EMP": {"max": 1},
            },
        },
        "S09": {
            "max": 9,
            "segments": {
                "REL": {"min": 1, "max": 1, "codes": {"1.1": ["PER"]}},
                "PNA": {"min": 1, "max": 1, "codes": {"1.1": ["PAS"]}},
                "ADR": {"max": 1},
                "CON": {"max": 9},
            },
        },
        "S11": {
            "max": 1,
            "segments": {
                "GIS": {"min": 1, "max": 2, "codes": {"1.1": ["N", "M", "C", "P"]}},
                "RFF": {"max": 3, "codes": {"1.1": ["AHI", "REI", "ADY"]}},
                "SEQ": {"max": 1},
                "DTM": {
                    "max": 2,
                    "codes": {"1.1": ["90", "91"]},
                    "formats": {"90": ["203"], "91": ["203"]},
                },
                "PAS": {"max": 1, "codes": {"1.1": ["POT", "HS", "HA", "DA", "REQ"]}},
                "CIN": {"max": 99, "codes": {"1.1": ["A", "DM"], "2.2": DIAGNOSIS_SCHEMES}},
            },
        },
        "S14": {
            "max": 999,
            "segments": {
                "CIN": {"max": 1, "codes": {"1.1": CIN_KINDS, "2.2": DIAGNOSIS_SCHEMES}},
                # the date of the group's diagnosis: only after its CIN (D0133L "Other")
                "DTM": {
                    "max": 1,
                    "after": "CIN",
                    "codes": {"1.1": ["CIS"]},
                    "formats": {"CIS": ["203"]},
                },
                "FTX": {"max": 999, "codes": {"1.1": ["NC", *FTX_REFERENCES]}},
            },
        },
    },
    "required": [
        {"group": "S01", "tag": "NAD", "code": "SSP", "name": "sender party (NAD+SSP)"},
        {"group": "S01", "tag": "NAD", "code": "PO", "name": "receiver party (NAD+PO)"},
        {"group": "S02", "tag": "RFF", "code": "SRI", "name": "letter id (RFF+SRI)"},
    ],
}

# The hospital->municipality adviser types (C suffix) stamp times with seconds (format 204)
# in the header and S02, name parties SOR (sender organisation) / ROR (receiver organisation)
# and carry no referral, relatives or S14.
ADVIS = {
    "header": {"segments": {"DTM": {"formats": {"137": ["204"]}}}},
    "groups": {
        "S01": {"segments": {"NAD": {"codes": {"1.1": ["SOR", "ROR"]}}}},
        "S02": {"segments": {"DTM": {"formats": {"182": ["204"]}}}},
        "S05": None,
        "S09": None,
        "S14": None,
    },
    "required": [
        {"group": "S01", "tag": "NAD", "code": "SOR", "name": "sender organisation (NAD+SOR)"},
        {"group": "S01", "tag": "NAD", "code": "ROR", "name": "receiver organisation (NAD+ROR)"},
        {"group": "S02", "tag": "RFF", "code": "SRI", "name": "letter id (RFF+SRI)"},
    ],
}


def _epikrise(type_: str, number: str, title: str) -> dict:
    return {
        "type": type_,
        "title": title,
        "extends": "MEDDIS",
        "version": version("D", number, "L"),
    }


TYPES = [
    _epikrise("DIS01", "01", "Udskrivningsepikrise"),
    _epikrise("DIS02", "02", "Ambulantepikrise"),
    _epikrise("DIS03", "03", "Skadestueepikrise"),
    _epikrise("DIS05", "05", "Billeddiagnostisk epikrise"),
    _epikrise("DIS06", "06", "Lægevagtsepikrise"),
    _epikrise("DIS07", "07", "Speciallægeepikrise"),
    _epikrise("DIS08", "08", "Fysioterapiepikrise"),
    _epikrise("DIS09", "09", "Kiropraktorepikrise"),
    _epikrise("DIS10", "10", "Psykologepikrise"),
    _epikrise("DIS13", "13", "Bookingsvar"),
    # Correspondence letters: FTX+OE is the subject, RFF+HI/NO in S02 the priority.
    {
        **_epikrise("DIS90", "90", "Administrativ korrespondancebrev"),
        "groups": {"S14": {"segments": {"FTX": {"codes": {"1.1": ["OE", "NC"]}}}}},
    },
    {
        **_epikrise("DIS91", "91", "Korrespondancebrev"),
        "groups": {"S14": {"segments": {"FTX": {"codes": {"1.1": ["OE", "NC"]}}}}},
    },
    {
        "type": "DIS14",
        "title": "Indlæggelsessvar",
        "version": version("D", "14", "C"),
        "extends": "ADVIS",
        "groups": {
            "S01": {"segments": {"NAD": {"codes": {"1.1": ["SOR", "ROR", "BV"]}}}},
            "S11": {"segments": {"PAS": {"codes": {"1.1": ["HS", "DA", "UP"]}}}},
        },
    },
    {
        "type": "DIS17",
        "title": "Udskrivningsadvis",
        "version": version("D", "17", "C"),
        "extends": "ADVIS",
        "groups": {
            "S11": {"segments": {"PAS": {"codes": {"1.1": ["DH", "DX", "MW", "UP", "MH", "DE"]}}}}
        },
    },
    {
        "type": "DIS20",
        "title": "Indlæggelsesadvis",
        "version": version("D", "20", "C"),
        "extends": "ADVIS",
        "groups": {"S11": {"segments": {"PAS": {"codes": {"1.1": ["HS", "DA"]}}}}},
    },
]

LAYERS = {"MEDDIS": [LETTER, FAMILY], "ADVIS": [LETTER, FAMILY, ADVIS]}
