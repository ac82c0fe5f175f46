"""Families validated for envelope and group structure only: MEDREF, MEDRPT, MEDREQ, MEDBIN
(explicit Snn groups, any segment inside) and MEDPRE (implicit groups opened by PNA / LIN).

Group order is not enforced here: lab reports and requests nest their groups (a sample group
followed by its results), so only the group names, their trigger values and the mandatory
S01 (parties) and S02 (letter) groups are checked.
"""

from gateway.edifact.grammars.medcom import IDENTIFIERS, LETTER, version


def _explicit(family: str, last_group: int) -> dict:
    groups = {f"S{n:02d}": {} for n in range(1, last_group + 1)}
    groups["S01"] = {"min": 1}
    groups["S02"] = {"min": 1, "max": 1}
    return {
        "family": family,
        "identifier": IDENTIFIERS[family],
        "groups_ordered": False,
        "header": {"segments": None},
        "groups": groups,
    }


MEDPRE = {
    "family": "MEDPRE",
    "identifier": IDENTIFIERS["MEDPRE"],
    "implicit": True,
    "groups_ordered": False,
    "header": {"segments": None},
    "groups": {"PNA": {"min": 1}, "LIN": {}},
}

LAYERS = {
    "MEDREF": [LETTER, _explicit("MEDREF", 19)],
    "MEDRPT": [LETTER, _explicit("MEDRPT", 22)],
    "MEDREQ": [LETTER, _explicit("MEDREQ", 22)],
    "MEDBIN": [LETTER, _explicit("MEDBIN", 19)],
    "MEDPRE": [MEDPRE],
}


def _t(family: str, type_: str, title: str, prefix: str, number: str, suffix: str) -> dict:
    return {
        "family": family,
        "type": type_,
        "title": title,
        "extends": family,
        "version": version(prefix, number, suffix),
    }


TYPES = [
    _t("MEDREF", "REF01", "Sygehushenvisning", "H", "01", "R"),
    _t("MEDREF", "REF02", "Billeddiagnostisk henvisning", "H", "02", "R"),
    _t("MEDREF", "REF06", "Speciallægehenvisning", "H", "06", "R"),
    _t("MEDREF", "REF07", "Fysioterapihenvisning", "H", "07", "R"),
    _t("MEDREF", "REF08", "Fodterapihenvisning", "H", "08", "R"),
    _t("MEDREF", "REF10", "Psykologhenvisning", "H", "10", "R"),
    _t("MEDREF", "REF12", "Øfeldthenvisning", "H", "12", "R"),
    _t("MEDRPT", "RPT01", "Laboratoriesvar", "R", "01", "K"),
    _t("MEDRPT", "RPT02", "Mikrobiologisvar", "R", "02", "M"),
    _t("MEDRPT", "RPT03", "Cervixcytologisvar", "R", "03", "P"),
    _t("MEDRPT", "RPT04", "Patologisvar", "R", "04", "P"),
    _t("MEDREQ", "REQ01", "Laboratorierekvisition", "Q", "01", "K"),
    _t("MEDREQ", "REQ03", "Patologirekvisition", "Q", "03", "P"),
    _t("MEDBIN", "BIN01", "Binær dokumenttransport", "B", "01", "X"),
    _t("MEDBIN", "BIN02", "Binær bilag til henvisning", "B", "02", "X"),
    {
        "family": "MEDPRE",
        "type": "PRE01",
        "title": "Recept",
        "extends": "MEDPRE",
        "version": r"^LMS[0-9]{3}$",
    },
]
