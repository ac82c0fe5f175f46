"""MedCom OIOXML (XDIS01, XDIS20, XDIS91, XREF01, XCTL01/02/03) <-> the model <-> EDIFACT.

``read``/``write`` translate between OIOXML bytes and (Envelope, Letter | Receipt);
``to_edifact``/``from_edifact`` convert whole messages through the model for endpoints that
speak the other format; ``validate`` checks XML against medbro's schemas in
schemas/oioxml/; ``write`` refuses what MedCom's official schemas would (conformance.py).
"""

from gateway.oioxml.convert import Format, convert, detect_format, from_edifact, to_edifact
from gateway.oioxml.errors import OioxmlError
from gateway.oioxml.losses import unrepresented
from gateway.oioxml.reader import read
from gateway.oioxml.validate import validate
from gateway.oioxml.writer import NS_2005, NS_2006, write

__all__ = [
    "NS_2005",
    "NS_2006",
    "Format",
    "OioxmlError",
    "convert",
    "detect_format",
    "from_edifact",
    "read",
    "to_edifact",
    "unrepresented",
    "validate",
    "write",
]
