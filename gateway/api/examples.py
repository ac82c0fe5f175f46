# ruff: noqa: E501 - example bodies are kept byte for byte, long lines included
"""Real bodies the OpenAPI schema shows as examples (and Schemathesis sends first).

A DIS01 discharge letter from Hillerød Hospital (GLN 5790000120420) to a GP (5790000128686), in
ASCII so that its bytes are the same in any encoding a client picks; the same letter as OIOXML
``Emessage`` and inside a VANSEnvelope 1.0.4; an LÆ 261 of case ``K-2026-0001``. Each was
written by medbro's own codecs (``medbro convert``, adapters/vans, gateway/forms) and is
checked by tests/api/test_openapi_contract.py, so an example never drifts into one that fails.
"""

from __future__ import annotations

DIS01_EDIFACT = (
    "UNA:+.? '\n"
    "UNB+UNOC:3+5790000120420:14+5790000128686:14+260302:0930+KDEMO000001++++1'\n"
    "UNH+BDEMO000001+MEDDIS:D:93A:UN:D0133L+DIS01'\n"
    "BGM+EPI++9+NA'\n"
    "DTM+137:202603020930:203'\n"
    "S01+01'\n"
    "NAD+SSP+2001060:SKS:SST++HILLEROED HOSPITAL:KIRURGISK AFD. A::::US'\n"
    "SEQ++1'\n"
    "SPR+ORG+30:SKS:SST+DIS01:SKS:SST'\n"
    "S01+01'\n"
    "NAD+PO+291714:YNR:SFU++Laegehuset:::::US'\n"
    "ADR++US:Vandvaerksvej 99+Hilleroed+3400'\n"
    "SEQ++2'\n"
    "S02+02'\n"
    "GIS+N'\n"
    "RFF+SRI:BDEMO000001'\n"
    "DTM+182:202603020930:203'\n"
    "S07+07'\n"
    "PNA+PAT+0101804321:::CPR:IM+++SU:Jensen+FO:Anna Marie'\n"
    "ADR++US:Grusgraven 3+Hilleroed+3400'\n"
    "S11+11'\n"
    "GIS+N'\n"
    "SEQ++1'\n"
    "DTM+90:202602260630:203'\n"
    "DTM+91:202603011330:203'\n"
    "PAS+HS'\n"
    "CIN+A+DK802:SKS:SST:Galdesten med akut kolecystitis'\n"
    "S14+14'\n"
    "FTX+NC+P00++Indlagt med smerter i hoejre side. Laparoskopisk kolecystektomi.:Forloeb uden komplikationer. Kontrol hos egen laege om 14 dage.'\n"
    "UNT+28+BDEMO000001'\n"
    "UNZ+1+KDEMO000001'\n"
)

DIS01_OIOXML = (
    '<?xml version=\'1.0\' encoding="UTF-8"?>\n'
    '<Emessage xmlns="http://rep.oio.dk/sundcom.dk/medcom.dk/xml/schemas/2005/08/07/"><Envelope><Sent><Date>2026-03-02</Date><Time>09:30</Time></Sent><Identifier>KDEMO000001</Identifier><AcknowledgementCode>pluspositivkvitt</AcknowledgementCode></Envelope><DischargeLetter><Letter><Identifier>BDEMO000001</Identifier><VersionCode>XD0133L</VersionCode><StatisticalCode>XDIS01</StatisticalCode><Authorisation><Date>2026-03-02</Date><Time>09:30</Time></Authorisation><TypeCode>XDIS01</TypeCode><StatusCode>nytbrev</StatusCode></Letter><Sender><EANIdentifier>5790000120420</EANIdentifier><Identifier>2001060</Identifier><IdentifierCode>sygehusafdelingsnummer</IdentifierCode><OrganisationName>HILLEROED HOSPITAL</OrganisationName><DepartmentName>KIRURGISK AFD. A</DepartmentName><MedicalSpecialityCode>kirurgi_sygehus</MedicalSpecialityCode></Sender><Receiver><EANIdentifier>5790000128686</EANIdentifier><Identifier>291714</Identifier><IdentifierCode>ydernummer</IdentifierCode><OrganisationName>Laegehuset</OrganisationName><StreetName>Vandvaerksvej 99</StreetName><DistrictName>Hilleroed</DistrictName><PostCodeIdentifier>3400</PostCodeIdentifier></Receiver><Patient><CivilRegistrationNumber>0101804321</CivilRegistrationNumber><PersonSurnameName>Jensen</PersonSurnameName><PersonGivenName>Anna Marie</PersonGivenName><StreetName>Grusgraven 3</StreetName><DistrictName>Hilleroed</DistrictName><PostCodeIdentifier>3400</PostCodeIdentifier><EpisodeOfCareStatusCode>indlagt</EpisodeOfCareStatusCode></Patient><Admission><Date>2026-02-26</Date><Time>06:30</Time></Admission><Discharge><Date>2026-03-01</Date><Time>13:30</Time></Discharge><Diagnose><Main><DiagnoseCode>DK802</DiagnoseCode><DiagnoseText>Galdesten med akut kolecystitis</DiagnoseText></Main></Diagnose><ClinicalInformation><Text01>Indlagt med smerter i hoejre side. Laparoskopisk kolecystektomi.<Break/>Forloeb uden komplikationer. Kontrol hos egen laege om 14 dage.<Break/></Text01></ClinicalInformation></DischargeLetter></Emessage>'
)

DIS01_VANS_ENVELOPE = (
    "<?xml version='1.0' encoding='UTF-8'?>\n"
    '<VANSEnvelope xmlns="urn:oio:medcom:vans-envelope:1.0.4">\n'
    '  <SenderID EndPointType="EAN">5790000120420</SenderID>\n'
    '  <ReceiverID EndPointType="EAN">5790000128686</ReceiverID>\n'
    '  <EnvelopeIdentifier>7a0c3f52-1e0b-4f5e-9a51-2f1e4c7d9b01</EnvelopeIdentifier>\n'
    '  <SentDateTime>2026-03-02T09:30:00</SentDateTime>\n'
    '  <Message>\n'
    '    <MetaInformation>\n'
    '      <Identifier>3b6f1d2e-8c4a-4b7e-9f10-5d2c6a8e4f21</Identifier>\n'
    '      <Document>\n'
    '        <Format>EDIFACT</Format>\n'
    '        <Name>MCM:DIS01</Name>\n'
    '        <Version>D0133L</Version>\n'
    '        <SizeInBytes>874</SizeInBytes>\n'
    '      </Document>\n'
    '      <Transport>\n'
    '        <Type>reliable</Type>\n'
    '        <TransformMessage>false</TransformMessage>\n'
    '      </Transport>\n'
    '    </MetaInformation>\n'
    '    <Data>VU5BOisuPyAnClVOQitVTk9DOjMrNTc5MDAwMDEyMDQyMDoxNCs1NzkwMDAwMTI4Njg2OjE0KzI2MDMwMjowOTMwK0tERU1PMDAwMDAxKysrKzEnClVOSCtCREVNTzAwMDAwMStNRURESVM6RDo5M0E6VU46RDAxMzNMK0RJUzAxJwpCR00rRVBJKys5K05BJwpEVE0rMTM3OjIwMjYwMzAyMDkzMDoyMDMnClMwMSswMScKTkFEK1NTUCsyMDAxMDYwOlNLUzpTU1QrK0hJTExFUk9FRCBIT1NQSVRBTDpLSVJVUkdJU0sgQUZELiBBOjo6OlVTJwpTRVErKzEnClNQUitPUkcrMzA6U0tTOlNTVCtESVMwMTpTS1M6U1NUJwpTMDErMDEnCk5BRCtQTysyOTE3MTQ6WU5SOlNGVSsrTGFlZ2VodXNldDo6Ojo6VVMnCkFEUisrVVM6VmFuZHZhZXJrc3ZlaiA5OStIaWxsZXJvZWQrMzQwMCcKU0VRKysyJwpTMDIrMDInCkdJUytOJwpSRkYrU1JJOkJERU1PMDAwMDAxJwpEVE0rMTgyOjIwMjYwMzAyMDkzMDoyMDMnClMwNyswNycKUE5BK1BBVCswMTAxODA0MzIxOjo6Q1BSOklNKysrU1U6SmVuc2VuK0ZPOkFubmEgTWFyaWUnCkFEUisrVVM6R3J1c2dyYXZlbiAzK0hpbGxlcm9lZCszNDAwJwpTMTErMTEnCkdJUytOJwpTRVErKzEnCkRUTSs5MDoyMDI2MDIyNjA2MzA6MjAzJwpEVE0rOTE6MjAyNjAzMDExMzMwOjIwMycKUEFTK0hTJwpDSU4rQStESzgwMjpTS1M6U1NUOkdhbGRlc3RlbiBtZWQgYWt1dCBrb2xlY3lzdGl0aXMnClMxNCsxNCcKRlRYK05DK1AwMCsrSW5kbGFndCBtZWQgc21lcnRlciBpIGhvZWpyZSBzaWRlLiBMYXBhcm9za29waXNrIGtvbGVjeXN0ZWt0b21pLjpGb3Jsb2ViIHVkZW4ga29tcGxpa2F0aW9uZXIuIEtvbnRyb2wgaG9zIGVnZW4gbGFlZ2Ugb20gMTQgZGFnZS4nClVOVCsyOCtCREVNTzAwMDAwMScKVU5aKzErS0RFTU8wMDAwMDEnCg==</Data>\n'
    '  </Message>\n'
    '</VANSEnvelope>\n'
)

LAE261_XML = (
    "<?xml version='1.0' encoding='UTF-8'?>\n"
    '<LAE261 xmlns="urn:medbro:lae:1">\n'
    '  <FormId>K-2026-0001-261-1</FormId>\n'
    '  <CaseRef>K-2026-0001</CaseRef>\n'
    '  <IssuedAt>2026-03-02T09:00:00</IssuedAt>\n'
    '  <Citizen>\n'
    '    <Cpr>1502824933</Cpr>\n'
    '    <Name>Knut Odvar Mosebryggersen</Name>\n'
    '  </Citizen>\n'
    '  <Parties>\n'
    '    <Municipality>\n'
    '      <Number>101</Number>\n'
    '      <Name>Københavns Kommune</Name>\n'
    '      <Caseworker>Åse Sørensen</Caseworker>\n'
    '    </Municipality>\n'
    '    <Gp>\n'
    '      <Ydernummer>291714</Ydernummer>\n'
    '      <Name>Lægehuset Vandværksvej</Name>\n'
    '    </Gp>\n'
    '    <ClinicalFunction>\n'
    '      <Sor>123456789012</Sor>\n'
    '      <Name>Klinisk Funktion Region Hovedstaden</Name>\n'
    '    </ClinicalFunction>\n'
    '  </Parties>\n'
    '  <Background>Sygedagpenge siden august 2025.\n'
    'Ressourceforløb overvejes.</Background>\n'
    '  <Situation>Borgeren har rygsmerter og angst.\n'
    '\n'
    'Har ikke arbejdet i 7 måneder.</Situation>\n'
    '  <Questions>\n'
    '    <Question>Hvilke helbredsforhold begrænser arbejdsevnen?</Question>\n'
    '    <Question>Er behandlingen afsluttet?</Question>\n'
    '  </Questions>\n'
    '  <FormVersion>1.0</FormVersion>\n'
    '</LAE261>\n'
)
