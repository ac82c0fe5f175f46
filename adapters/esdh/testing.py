"""In-memory twin of an ESDH: the ``EsdhClient`` contract in dicts, for fast tests.

It keeps the contract's rules (an external key is unique: a second create answers the first
document with ``created`` False; an unknown case is refused) and can be told to be down for the
next N calls, so retry paths are tested without a network.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field

from adapters.esdh.client import EsdhRefused, EsdhUnavailable, StoredDocument
from adapters.esdh.mapping import Case, JournalEntry


@dataclass
class MemoryEsdh:
    cases: dict[str, tuple[str, Case]] = field(default_factory=dict)  # id -> (cpr, case)
    documents: dict[str, tuple[StoredDocument, JournalEntry]] = field(default_factory=dict)
    down_for: int = 0  # the next N calls fail with EsdhUnavailable
    calls: list[str] = field(default_factory=list)
    _ids: itertools.count = field(default_factory=lambda: itertools.count(1))

    def add_case(self, cpr: str, kind: str, *, reference: str = "", status: str = "open") -> Case:
        case = Case(id=f"case-{next(self._ids)}", kind=kind, status=status, reference=reference)
        self.cases[case.id] = (cpr, case)
        return case

    def _enter(self, name: str) -> None:
        self.calls.append(name)
        if self.down_for > 0:
            self.down_for -= 1
            raise EsdhUnavailable(f"{name}: the in-memory ESDH is down")

    async def find_cases(self, cpr: str) -> list[Case]:
        self._enter("find_cases")
        return [case for owner, case in self.cases.values() if owner == cpr]

    async def find_document(
        self, *, external_key: str = "", medcom_ref: str = ""
    ) -> StoredDocument | None:
        self._enter("find_document")
        for doc, entry in self.documents.values():
            if (external_key and doc.external_key == external_key) or (
                medcom_ref and entry.medcom_ref == medcom_ref
            ):
                return doc
        return None

    async def create_document(self, case_id: str, entry: JournalEntry) -> tuple[str, bool]:
        self._enter("create_document")
        if case_id not in self.cases:
            raise EsdhRefused(f"unknown case {case_id}")
        for doc, _entry in self.documents.values():
            if doc.external_key == entry.external_key:
                return doc.id, False
        doc = StoredDocument(f"doc-{next(self._ids)}", case_id, entry.external_key, entry.title)
        self.documents[doc.id] = (doc, entry)
        return doc.id, True

    def documents_on(self, case_id: str) -> list[JournalEntry]:
        return [entry for doc, entry in self.documents.values() if doc.case_id == case_id]
