"""Schemathesis hooks (``SCHEMATHESIS_HOOKS``): medbro's raw bodies go on the wire as they are.

EDIFACT has no serializer in Schemathesis, and its XML serializer would wrap a string body in
an element of its own; an interchange, an OIOXML letter, a VANSEnvelope or an LÆ form is sent
byte for byte, as the octet-stream serializer does.
"""

import schemathesis

schemathesis.serializer.alias(
    ["application/edifact", "application/edi-edifact", "application/xml"],
    "application/octet-stream")
