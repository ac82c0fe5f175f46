"""Layer 2, the MedCom envelope of every letter: UNH identifier, BGM and the DTM+137 header.

Family tables (layer 3) start from ``LETTER`` and letter types (layer 4) from their family.
"""

# UNH element 2 components 1-4 per family (component 5 is the MedCom version code).
IDENTIFIERS = {
    "MEDDIS": ["MEDDIS", "D", "93A", "UN"],
    "MEDREF": ["MEDREF", "D", "93A", "UN"],
    "MEDRPT": ["MEDRPT", "D", "93A", "UN"],
    "MEDREQ": ["MEDREQ", "D", "93A", "UN"],
    "MEDBIN": ["MEDBIN", "D", "93A", "UN"],
    "MEDPRE": ["MEDPRE", "0", "962", "RT"],
    "CONTRL": ["CONTRL", "D", "93A", "ZZ"],
}

LETTER = {
    "depth": "structure",
    "header": {
        "segments": {
            "BGM": {"min": 1, "max": 1},
            "DTM": {"min": 1, "max": 1, "codes": {"1.1": ["137"]}},
        }
    },
}


def version(prefix: str, number: str, suffix: str) -> str:
    """The version-code pattern of a type: D01 + two revision digits + L for DIS01, etc."""
    return rf"^{prefix}{number}[0-9]{{2}}{suffix}$"
