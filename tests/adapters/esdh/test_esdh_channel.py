"""The ESDH channel, as one contract suite run against the in-memory twin and against the
reference ESDH over real HTTP: journalise on the right case, idempotent, operator tasks.
"""

from __future__ import annotations

import httpx
import pytest
from esdh_helpers import CPR, delivery, dis91, reference_server

from adapters.esdh import (
    CaseNotFoundError,
    EsdhChannel,
    MemoryEsdh,
    RestEsdhClient,
)
from gateway.channels import PermanentDeliveryError, TransientDeliveryError
from gateway.errors import RemoteMessageError
from gateway.model import LetterStatus


async def _no_sleep(seconds: float) -> None:
    return None


class EsdhContract:
    """Build with ``make()`` -> (client, add_case(cpr, kind, reference, status) -> id,
    documents(case_id) -> list of dicts with title/external_key/files)."""

    @pytest.fixture
    def esdh(self, tmp_path):
        raise NotImplementedError

    def channel(self, client, letters, **kwargs):
        return EsdhChannel(client, decoder=lambda d: list(letters), sleep=_no_sleep, **kwargs)

    async def test_letter_is_journalised_on_the_open_case_of_its_kind(self, esdh):
        client, add_case, documents = esdh
        add_case(CPR, "sygedagpenge")
        health = add_case(CPR, "sundhed")
        add_case("0101011234", "sundhed")
        add_case(CPR, "sundhed", status="closed")
        result = await self.channel(client, [dis91()]).deliver(None, delivery())
        docs = documents(health)
        assert len(docs) == 1 and result.external_ref == docs[0]["id"]
        doc = docs[0]
        assert doc["external_key"] == "medcom:5790000120400:BrevNr00129"
        assert doc["title"].startswith("Korrespondancebrev fra Lægehuset")
        assert doc["document_type"] == "DIS91 Korrespondancebrev"
        assert doc["letter_id"] == "BrevNr00129"
        assert doc["sender_organisation"] == "Lægehuset, Else Nielsen (291714 YNR)"
        assert doc["files"] == {"BrevNr00129.edi", "BrevNr00129.html", "BrevNr00129.pdf"}

    async def test_the_case_reference_wins_over_the_open_case(self, esdh):
        client, add_case, documents = esdh
        add_case(CPR, "sundhed")
        named = add_case(CPR, "rehabilitering", reference="SAG-2026-17", status="closed")
        await self.channel(client, [dis91(reference="SAG-2026-17")]).deliver(None, delivery())
        assert len(documents(named)) == 1

    async def test_the_same_message_delivered_twice_is_one_document(self, esdh):
        client, add_case, documents = esdh
        case = add_case(CPR, "sundhed")
        channel = self.channel(client, [dis91()])
        first = await channel.deliver(None, delivery())
        again = await channel.deliver(None, delivery(message_id="m-1-redelivered"))
        assert first.external_ref == again.external_ref
        assert len(documents(case)) == 1

    async def test_an_lae265_goes_on_the_case_it_names_as_a_certificate(self, esdh):
        from gateway.forms import to_letter
        from tests.forms.examples import LAE265

        client, add_case, documents = esdh
        add_case(CPR, "rehabilitering", reference="K-2026-0001")
        named = add_case(CPR, "rehabilitering", reference="K-2026-0042")
        await self.channel(client, [to_letter(LAE265)]).deliver(None, delivery())
        (doc,) = documents(named)
        assert doc["document_type"] == "Lægeattest til rehabiliteringsteam (LÆ 265)"
        assert doc["title"].startswith("Lægeattest til rehabiliteringsteam (LÆ 265) fra ")

    async def test_an_lae265_without_its_case_falls_back_to_the_open_rehab_case(self, esdh):
        from gateway.forms import to_letter
        from tests.forms.examples import LAE265

        client, add_case, documents = esdh
        add_case(CPR, "sundhed")
        rehab = add_case(CPR, "rehabilitering")
        await self.channel(client, [to_letter(LAE265)]).deliver(None, delivery())
        assert len(documents(rehab)) == 1

    async def test_a_corrected_letter_is_a_new_document(self, esdh):
        client, add_case, documents = esdh
        case = add_case(CPR, "sundhed")
        await self.channel(client, [dis91()]).deliver(None, delivery())
        corrected = dis91(status=LetterStatus.CORRECTED)
        await self.channel(client, [corrected]).deliver(None, delivery(control_ref="K2"))
        assert len(documents(case)) == 2

    @pytest.mark.parametrize("cases", [[], [("sundhed", "open"), ("sundhed", "open")],
                                       [("sundhed", "closed")]])
    async def test_no_single_case_is_an_operator_task(self, esdh, cases):
        client, add_case, documents = esdh
        ids = [add_case(CPR, kind, status=status) for kind, status in cases]
        with pytest.raises(CaseNotFoundError) as err:
            await self.channel(client, [dis91()]).deliver(None, delivery())
        assert isinstance(err.value, PermanentDeliveryError)
        assert "sundhed" in str(err.value) and CPR not in str(err.value)
        assert all(documents(i) == [] for i in ids)

    async def test_a_letter_without_cpr_is_an_operator_task(self, esdh):
        client, _add_case, _documents = esdh
        with pytest.raises(CaseNotFoundError, match="names no patient CPR"):
            await self.channel(client, [dis91(cpr="")]).deliver(None, delivery())

    async def test_an_unreadable_payload_is_permanent(self, esdh):
        client, _add_case, _documents = esdh

        def broken(_delivery):
            raise RemoteMessageError("UNH missing at segment 2")

        channel = EsdhChannel(client, decoder=broken, sleep=_no_sleep)
        with pytest.raises(PermanentDeliveryError, match="UNH missing at segment 2"):
            await channel.deliver(None, delivery())


class TestMemoryEsdh(EsdhContract):
    @pytest.fixture
    def esdh(self, tmp_path):
        memory = MemoryEsdh()

        def add_case(cpr, kind, reference="", status="open"):
            return memory.add_case(cpr, kind, reference=reference, status=status).id

        def documents(case_id):
            out = []
            for doc, entry in memory.documents.values():
                if doc.case_id == case_id:
                    out.append({"id": doc.id, "external_key": doc.external_key,
                                "title": entry.title, "document_type": entry.document_type,
                                "letter_id": entry.letter_id,
                                "sender_organisation": entry.sender_organisation,
                                "files": {a.name for a in entry.attachments}})
            return out

        return memory, add_case, documents

    async def test_retries_ride_out_a_short_outage(self):
        memory = MemoryEsdh(down_for=3)
        memory.add_case(CPR, "sundhed")
        slept = []

        async def sleep(seconds):
            slept.append(seconds)

        channel = EsdhChannel(memory, decoder=lambda d: [dis91()], sleep=sleep, attempts=4)
        result = await channel.deliver(None, delivery())
        assert result.external_ref and len(slept) == 3 and slept == sorted(slept)

    async def test_a_long_outage_is_transient_for_the_pipeline(self):
        memory = MemoryEsdh(down_for=100)
        channel = EsdhChannel(memory, decoder=lambda d: [dis91()], sleep=_no_sleep, attempts=3)
        with pytest.raises(TransientDeliveryError, match="ESDH unavailable"):
            await channel.deliver(None, delivery())
        assert len(memory.calls) == 3


class TestReferenceEsdh(EsdhContract):
    @pytest.fixture
    def esdh(self, tmp_path):
        with reference_server(tmp_path / "esdh.db") as url:
            admin = httpx.Client(base_url=url)

            def add_case(cpr, kind, reference="", status="open"):
                body = {"cpr": cpr, "kind": kind, "reference": reference or None,
                        "status": status}
                return admin.post("/v1/cases", json=body).raise_for_status().json()["id"]

            def documents(case_id):
                docs = admin.get(f"/v1/cases/{case_id}").raise_for_status().json()["documents"]
                for doc in docs:
                    doc["files"] = {f["name"] for f in doc["files"]}
                return docs

            client = RestEsdhClient(url)
            yield client, add_case, documents
            admin.close()


class TestReceipts:
    """A CONTRL receipt for a letter the municipality sent goes on that letter's case."""

    def _delivery(self):
        from tests.conftest import sample_bytes

        payload = sample_bytes("edifact_CTL03_1.edi")
        return delivery(payload, control_ref="KuvertNr1234")

    async def test_receipt_is_journalised_on_the_case_of_the_receipted_letter(self, samples_dir):
        from adapters.esdh import JournalEntry

        memory = MemoryEsdh()
        memory.add_case(CPR, "sundhed")
        case = memory.add_case(CPR, "rehabilitering", reference="SAG-1")
        sent = JournalEntry(external_key="outgoing-1", title="Henvisning", document_type="REF01",
                            document_date=None, sender_organisation="Odense", letter_id="x",
                            medcom_ref="5790000181872:MEDREF01095:1111FRE01095")
        await memory.create_document(case.id, sent)
        channel = EsdhChannel(memory, sleep=_no_sleep)
        result = await channel.deliver(None, self._delivery())
        docs = memory.documents_on(case.id)
        assert [d.document_type for d in docs] == ["REF01", "CTL03 Positiv kvittering"]
        assert docs[1].external_key == "medcom-receipt:5790000120400:KuvertNr1234:BrevNr5678"
        assert result.external_ref == memory.documents[result.external_ref][0].id

    async def test_receipt_for_an_unknown_letter_is_an_operator_task(self, samples_dir):
        channel = EsdhChannel(MemoryEsdh(), sleep=_no_sleep)
        with pytest.raises(CaseNotFoundError, match="5790000181872:MEDREF01095:1111FRE01095"):
            await channel.deliver(None, self._delivery())


async def test_an_epikrise_decoded_by_the_codec_goes_on_the_open_health_case(samples_dir):
    """The MedCom DIS01 sample (udskrivningsepikrise), as a municipality with a copy would
    receive it: journalised on the citizen's open 'sundhed' case, dated by DTM+137."""
    from tests.conftest import sample_bytes

    memory = MemoryEsdh()
    case = memory.add_case("0108584947", "sundhed")
    memory.add_case("0108584947", "sygedagpenge")
    payload = sample_bytes("edifact_DIS01_1.edi")
    result = await EsdhChannel(memory, sleep=_no_sleep).deliver(None, delivery(payload))
    (entry,) = memory.documents_on(case.id)
    assert entry.document_type == "DIS01 Udskrivningsepikrise"
    # The sample is a corrected letter (GIS+M): a new document, keyed by its interchange too.
    assert entry.external_key == "medcom:5790000120400:BrevNr00129:M:KuvertNr012234:BrevNr00129"
    assert entry.document_date is not None and entry.document_date.year == 1999
    assert {a.name for a in entry.attachments} == {"BrevNr00129.edi", "BrevNr00129.html",
                                                   "BrevNr00129.pdf"}
    assert result.external_ref in memory.documents
