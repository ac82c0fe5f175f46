"""CONTRL receipts (CTL01 negative VANS receipt, CTL02 negative, CTL03 positive).

No segment groups: UCI (the original interchange), UCM (one per original message) and, on a
rejection, FTX with the refusal code as qualifier. The order of UCM and FTX differs between
MedCom's own samples (CTL01: UCI FTX UCM; CTL02: UCI UCM FTX), so the header is unordered.
"""

from gateway.edifact.grammars.medcom import IDENTIFIERS, version

REFUSAL_CODES = ["NC", "LOK", "MID", "VER", "SYN"]

FAMILY = {
    "family": "CONTRL",
    "identifier": IDENTIFIERS["CONTRL"],
    "depth": "deep",
    "header": {
        "ordered": False,
        "segments": {
            # every element and component maps onto the Receipt: no room for more. The
            # original interchange reference (1.1) is mandatory (MedCom's converter): medbro
            # writes no receipt for an interchange whose reference it cannot read.
            "UCI": {
                "min": 1,
                "max": 1,
                "required": ["1.1", "2.1", "3.1", "4.1"],
                "names": {"1.1": "original interchange reference (UCI element 1)"},
                "codes": {"4.1": ["4"]},
                "shape": [1, 2, 2, 1],
            },
            "UCM": {"max": 999, "codes": {"3.1": ["4"]}, "shape": [1, 6, 1]},
            # one refusal: one text (one qualifier and format, adjacent segments)
            "FTX": {
                "min": 1,
                "max": 99,
                "codes": {"1.1": REFUSAL_CODES},
                "shape": [1, 1, 0, 5],
                "run": True,
            },
        },
    },
}

TYPES = [
    {
        "type": "CTL01",
        "extends": "CONTRL",
        "title": "Negativ VANS-kvittering",
        "version": version("C", "01", "Q"),
    },
    {
        "type": "CTL02",
        "extends": "CONTRL",
        "title": "Negativ kvittering",
        "version": version("C", "02", "Q"),
    },
    {
        "type": "CTL03",
        "extends": "CONTRL",
        "title": "Positiv kvittering",
        "version": version("C", "03", "Q"),
        "header": {
            "segments": {
                "UCI": {"codes": {"4.1": ["7"]}},
                "UCM": {"min": 1, "codes": {"3.1": ["7"]}},
                "FTX": None,
            }
        },
    },
]

LAYERS = {"CONTRL": [FAMILY]}
