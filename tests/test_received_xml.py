"""``doctype``/``refuse_doctype``: a DOCTYPE in received XML is found before it is parsed."""

from __future__ import annotations

import pytest

from gateway.errors import RemoteMessageError
from gateway.received_xml import DoctypeError, doctype, refuse_doctype

LAUGHS = (b'<!DOCTYPE r [<!ENTITY a "aaaaaaaaaa">'
          + b"".join(f'<!ENTITY a{i} "{("&a" + (str(i - 1) if i > 1 else "") + ";") * 10}">'
                     .encode() for i in range(1, 10))
          + b']><r x="&a9;"/>')


@pytest.mark.parametrize(
    ("data", "found"),
    [
        (b"<r/>", ""),
        (b'<?xml version="1.0"?>\n<r a="1"><x/></r>', ""),
        (b"UNA:+.? 'UNB+UNOC:3+1:14+2:14+990115:1202+K1'", ""),  # not XML
        (b"", ""),
        (b"<r", ""),  # broken, but no DOCTYPE: the caller's parser says what is wrong
        (b"<!DOCTYPE r><r/>", "<!DOCTYPE r>"),
        (b'<?xml version="1.0"?><!DOCTYPE r [<!ENTITY e "x">]><r>&e;</r>', "<!DOCTYPE r>"),
        (b'<!DOCTYPE r SYSTEM "http://127.0.0.1:1/r.dtd"><r/>',
         '<!DOCTYPE r SYSTEM "http://127.0.0.1:1/r.dtd">'),
        (b'<!DOCTYPE r [<!ENTITY % p SYSTEM "file:///etc/passwd"> %p;]><r/>', "<!DOCTYPE r>"),
        ('<?xml version="1.0" encoding="UTF-16"?><!DOCTYPE r><r/>'.encode("utf-16"),
         "<!DOCTYPE r>"),
        (b"\xef\xbb\xbf  <!DOCTYPE r><r/>", "<!DOCTYPE r>"),
        (LAUGHS, "<!DOCTYPE"),  # expansion refused by libxml2's limits: still found
    ],
)
def test_doctype_is_found_without_expanding_anything(data, found):
    assert doctype(data) == found


def test_refuse_doctype_is_the_senders_error_naming_what():
    refuse_doctype(b"<r/>", "a VANSEnvelope")
    with pytest.raises(DoctypeError) as caught:
        refuse_doctype(b"<!DOCTYPE r><r/>", "a VANSEnvelope")
    assert isinstance(caught.value, RemoteMessageError)
    assert str(caught.value) == ("a DOCTYPE is not allowed in a VANSEnvelope (no DTD, no "
                                 "entities): <!DOCTYPE r>")
