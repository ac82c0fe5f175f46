"""The ESDH client port and its REST/JSON implementation (the contract of docs/esdh.md).

``EsdhClient`` is the whole surface the journaliser needs: find a citizen's cases, find a
document by external key or MedCom reference, create a document with its files. Each real
vendor (SBSYS, Acadre, WorkZone, F2) is one class with these three methods; ``RestEsdhClient``
speaks medbro's own contract, which ``reference_server.py`` implements.

Errors say whether trying again can help: ``EsdhUnavailable`` (connection, timeout, 429, 5xx:
the journaliser retries with tenacity, then the pipeline redelivers later) and ``EsdhRefused``
(any other 4xx: an operator must look). The CPR travels only in request bodies, never in a URL,
so it stays out of access logs.
"""

from __future__ import annotations

import base64
from dataclasses import dataclass
from typing import Any, Protocol

import httpx

from adapters.esdh.mapping import Case, JournalEntry
from gateway.errors import MedbroError


class EsdhError(MedbroError):
    """The ESDH did not do what was asked."""


class EsdhUnavailable(EsdhError):
    """The ESDH could not be reached or failed internally; later may work."""


class EsdhRefused(EsdhError):
    """The ESDH refused the request; sending it again will not help."""


@dataclass(frozen=True)
class StoredDocument:
    id: str
    case_id: str
    external_key: str
    title: str = ""


class EsdhClient(Protocol):
    async def find_cases(self, cpr: str) -> list[Case]:
        """Every case of the citizen (open and closed)."""
        ...

    async def find_document(
        self, *, external_key: str = "", medcom_ref: str = ""
    ) -> StoredDocument | None:
        """The document with that external key (or MedCom reference), if any."""
        ...

    async def create_document(self, case_id: str, entry: JournalEntry) -> tuple[str, bool]:
        """Create ``entry`` on the case; (document id, created). An existing external key is not
        an error: the ESDH answers with the existing document and ``created`` False."""
        ...


_TRANSIENT_STATUS = {408, 425, 429}


def entry_json(case_id: str, entry: JournalEntry) -> dict[str, Any]:
    """The request body of ``POST /v1/documents`` (docs/esdh.md)."""
    return {
        "external_key": entry.external_key,
        "case_id": case_id,
        "title": entry.title,
        "document_type": entry.document_type,
        "document_date": entry.document_date.isoformat() if entry.document_date else None,
        "sender_organisation": entry.sender_organisation,
        "letter_id": entry.letter_id,
        "medcom_ref": entry.medcom_ref,
        "files": [
            {
                "name": a.name,
                "media_type": a.media_type,
                "content_base64": base64.b64encode(a.content).decode("ascii"),
            }
            for a in entry.attachments
        ],
    }


class RestEsdhClient:
    """``EsdhClient`` over medbro's REST/JSON ESDH contract (httpx, async)."""

    def __init__(
        self,
        base_url: str,
        *,
        token: str = "",
        timeout: float = 10.0,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        self._http = httpx.AsyncClient(
            base_url=base_url.rstrip("/"), headers=headers, timeout=timeout, transport=transport
        )

    async def aclose(self) -> None:
        await self._http.aclose()

    async def _call(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        try:
            response = await self._http.request(method, path, **kwargs)
        except httpx.HTTPError as exc:
            raise EsdhUnavailable(f"{method} {path}: {exc!r}") from exc
        if response.status_code in _TRANSIENT_STATUS or response.status_code >= 500:
            raise EsdhUnavailable(f"{method} {path} answered {response.status_code}")
        if response.status_code >= 400:
            raise EsdhRefused(
                f"{method} {path} answered {response.status_code}: {response.text[:300]}"
            )
        return response

    async def find_cases(self, cpr: str) -> list[Case]:
        response = await self._call("POST", "/v1/cases/search", json={"cpr": cpr})
        return [
            Case(
                id=str(c["id"]),
                kind=c.get("kind", ""),
                status=c.get("status", "open"),
                reference=c.get("reference") or "",
                title=c.get("title") or "",
            )
            for c in response.json()["cases"]
        ]

    async def find_document(
        self, *, external_key: str = "", medcom_ref: str = ""
    ) -> StoredDocument | None:
        query = {"external_key": external_key} if external_key else {"medcom_ref": medcom_ref}
        response = await self._call("GET", "/v1/documents", params=query)
        documents = response.json()["documents"]
        if not documents:
            return None
        doc = documents[0]
        return StoredDocument(
            id=str(doc["id"]),
            case_id=str(doc["case_id"]),
            external_key=doc["external_key"],
            title=doc.get("title", ""),
        )

    async def create_document(self, case_id: str, entry: JournalEntry) -> tuple[str, bool]:
        response = await self._call("POST", "/v1/documents", json=entry_json(case_id, entry))
        body = response.json()
        return str(body["id"]), response.status_code == 201
