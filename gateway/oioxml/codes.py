"""Code tables between EDIFACT codes (as the canonical model keeps them) and OIOXML words.

MedCom's converter translates every EDIFACT code to a Danish word in OIOXML and back; these
tables are that translation, read from MedCom's EDI2XML/XML2EDI stylesheets and the sample
twins. Each table is one dict in the EDIFACT -> OIOXML direction; :class:`CodeTable` gives the
reverse look-up and says which table failed, so a bad code becomes an error naming it.
"""

from __future__ import annotations

from collections.abc import Mapping


class CodeTable:
    """A two-way code list: EDIFACT code <-> OIOXML word."""

    def __init__(self, name: str, edi_to_xml: Mapping[str, str]) -> None:
        self.name = name
        self._to_xml = dict(edi_to_xml)
        self._to_edi: dict[str, str] = {}
        for edi, xml in self._to_xml.items():
            self._to_edi.setdefault(xml, edi)  # the first code listed wins when two share a word

    def to_xml(self, code: str) -> str | None:
        return self._to_xml.get(code)

    def to_edi(self, word: str) -> str | None:
        return self._to_edi.get(word)

    def words(self) -> list[str]:
        return list(self._to_edi)

    def codes(self) -> list[str]:
        return list(self._to_xml)


# NAD element 2 component 2 (code list) -> IdentifierCode. "" and EAN both mean a GLN.
IDENTIFIER_CODES = CodeTable(
    "IdentifierCode",
    {
        "SKS": "sygehusafdelingsnummer",
        "YNR": "ydernummer",
        "EAN": "lokationsnummer",
        "KOM": "kommunenummer",
        "SOR": "sorkode",
    },
)
# The responsible agency (NAD element 2 component 3) MedCom writes for each code list.
AGENCY_BY_SCHEME = {"SKS": "SST", "YNR": "SFU", "EAN": "9", "KOM": "IM", "SOR": "SST"}

# GIS element 1: letter status.
STATUS_CODES = CodeTable("StatusCode", {"N": "nytbrev", "M": "rettetbrev"})

# FTX element 1 of a CONTRL receipt: refusal code.
REFUSE_CODES = CodeTable(
    "RefuseCode",
    {
        "NC": "ikke_specificeret",
        "LOK": "ukendt_lokationsnummer",
        "MID": "problem_med_modtagerID",
        "VER": "problem_med_version",
        "SYN": "syntaksfejl",
    },
)

# CIN element 1 (qualifier) of a further diagnosis (S14) -> DiagnoseDescriptionCode.
DIAGNOSIS_KINDS = CodeTable(
    "DiagnoseDescriptionCode",
    {
        "DI": "uspec_diagnose",
        "H": "henv_diagnose",
        "B": "bidiagnose",
        "DM": "tillaegsdiagnose",
        "A": "aktionsdiagnose",
        "G": "grundmorbus",
        "M": "midlertidig_diagnose",
        "S": "forloebsdiagnose",
        "TR": "operation",
        "IN": "roentgenundersoegelse",
    },
)

# CIN element 2 component 2 (code list) -> DiagnoseTypeCode, and the agency MedCom writes.
DIAGNOSIS_SCHEMES = CodeTable(
    "DiagnoseTypeCode",
    {"SKS": "SKSdiagnosekode", "USP": "uspecificeretkode", "ICP": "ICPCkode"},
)
DIAGNOSIS_AGENCY = {"SKS": "SST", "USP": "", "ICP": ""}

# PAS element 1 -> EpisodeOfCareStatusCode.
EPISODE_STATUS = CodeTable(
    "EpisodeOfCareStatusCode",
    {"POT": "inaktiv", "HS": "indlagt", "HA": "ambulant", "DA": "doed", "REQ": "ambulant_roentgen"},
)

# REL element 2 -> RelationCode.
RELATION_CODES = CodeTable(
    "RelationCode", {"GU": "uspec_paaroerende", "MO": "mor", "FA": "far", "SD": "barn"}
)

# DIS91 S02 second RFF: its qualifier is the priority (RFF+HI:NC = high, RFF+NO:NC = routine).
PRIORITY_CODES = CodeTable("Priority", {"HI": "høj_prioritet", "NO": "rutine"})

# SPR+ORG element 2 component 1 (the sender's speciality, SKS) -> MedicalSpecialityCode.
SPECIALITY_CODES = CodeTable(
    "MedicalSpecialityCode",
    {
        "99": "ikkeklassificeret",
        "1": "intern_medicin_sygehus",
        "2": "geriatri",
        "3": "hepatologi",
        "4": "haematologi",
        "5": "infektionsmedicin",
        "6": "kardiologi",
        "7": "med_allergologi",
        "8": "med_endokrinologi",
        "9": "med_gastroenterologi",
        "10": "med_lungesygdomme",
        "11": "nefrologi",
        "12": "reumatologi",
        "18": "dermato_venerologi_sygehus",
        "20": "neurologi",
        "22": "onkologi",
        "30": "kirurgi_sygehus",
        "31": "karkirurgi",
        "32": "kir_gastroenterologi",
        "33": "plastikkirurgi",
        "34": "thoraxkirurgi",
        "35": "urologi",
        "38": "gynaekologi_obstetrik_sygehus",
        "40": "neurokirurgi",
        "42": "ortopaedisk_kirurgi_sygehus",
        "44": "oftalmologi",
        "46": "oto_rhino_laryngologi",
        "48": "hospitalsodontologi",
        "50": "psykiatri_sygehus",
        "52": "boerne_ungdomspsykiatri",
        "60": "klin_biokemi",
        "61": "klin_fys_nuklearmedicin",
        "62": "klin_immunologi",
        "63": "klin_mikrobiologi",
        "64": "klin_neurofysiologi",
        "65": "patologisk_anatomi",
        "66": "diagnostisk_radiologi",
        "67": "klin_farmakologi",
        "68": "klin_genetik",
        "80": "paediatri_sygehus",
        "84": "anaestesiologi_sygehus",
        "86": "arbejdsmedicin",
        "90": "almen_medicin",
        "91": "samfundsmedicin",
        "580": "almenlaege_laegevagt",
        "1519": "oejenlaege",
        "2021": "oere_naese_halslaege",
        "2501": "anaestesiologi_praksis",
        "2503": "roentgen_kbh",
        "2504": "dermato_venerologi_praksis",
        "2505": "roentgen",
        "2506": "reumatologi_fysiurgi",
        "2507": "gynaekologi_obstetrik_praksis",
        "2508": "intern_medicin_praksis",
        "2509": "kirurgi_praksis",
        "2511": "klinisk_kemi",
        "2518": "neuromedicin",
        "2520": "ortopaedisk_kirurgi_praksis",
        "2522": "patologi",
        "2523": "plastkirurgi",
        "2524": "psykiatri_praksis",
        "2525": "paediatri",
        "2526": "boernepsykiatri",
        "2528": "tropemedicin",
        "4050": "tandlaege",
        "4551": "fysioterapi",
        "5053": "kiropraktor",
        "5552": "briller",
        "6054": "fodterapi",
        "6055": "fodbehandlking",
        "7045": "med_laboratorier",
        "7046": "omegnslaboratorier",
        "9463": "psykolog",
    },
)

# FTX element 2 (text format) -> the OIOXML wrappers around the text, outermost first.
TEXT_FORMATS: dict[str, tuple[str, ...]] = {
    "P00": (),
    "F00": ("FixedFont",),
    "F0H": ("FixedFont", "Right"),
    "F0M": ("FixedFont", "Center"),
    "FF0": ("FixedFont", "Bold"),
    "FU0": ("FixedFont", "Underline"),
    "FK0": ("FixedFont", "Italic"),
    "P0H": ("Right",),
    "P0M": ("Center",),
    "PF0": ("Bold",),
    "PU0": ("Underline",),
    "PK0": ("Italic",),
}
FORMAT_BY_WRAPPERS = {wrappers: code for code, wrappers in TEXT_FORMATS.items()}

# The EDIFACT message family of a MedCom version code (MedCom's VersionCodeToType), for the
# UCM message identifier that an OIOXML receipt shortens to the version code.
_FAMILY_BY_PREFIX = {
    "D": "MEDDIS",
    "H": "MEDREF",
    "R": "MEDRPT",
    "Q": "MEDREQ",
    "B": "MEDBIN",
    "A": "PRODAT",
    "C": "CONTRL",
}


def family_of_version(version: str) -> str:
    """``H0130R`` -> ``MEDREF`` (by the version code's first letter, as MedCom's table does)."""
    return _FAMILY_BY_PREFIX.get(version[:1], "")


def message_identifier(version: str) -> str:
    """The UCM element 2 a receipt writes for an original letter of ``version``."""
    family = family_of_version(version)
    agency = "ZZ" if family == "CONTRL" else "UN"
    return f"{family}:D:93A:{agency}:{version}"

# XREF01 HospitalReferral, the codes MedCom's REF01 twin shows (the other words of MedCom's
# enumerations have no EDIFACT code medbro knows, so the reader and writer refuse them by name).
# PTY+PRI element 2 -> AdditionalInformation/Priority.
REFERRAL_PRIORITY = CodeTable("Priority", {"WA": "elektiv"})
# TDT+PHL element 3 -> AdditionalInformation/Transport.
REFERRAL_TRANSPORT = CodeTable("Transport", {"TX": "ingen"})
# S07 CON element 1 -> Patient/TelephoneSubscriber/TelephoneSubscriberCode.
TELEPHONE_CODES = CodeTable("TelephoneSubscriberCode", {"HO": "fastnet", "CE": "mobil"})
