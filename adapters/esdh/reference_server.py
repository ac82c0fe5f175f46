"""A reference ESDH: medbro's REST/JSON ESDH contract (docs/esdh.md) on FastAPI + SQLite.

It exists so the adapter is tested over real HTTP against a server that keeps the contract's
promises (unique external keys, case lookup by CPR in the request body, files stored and served
back byte for byte), and so a municipality can try medbro before its vendor integration exists:
``medbro esdh-reference-server --database var/esdh.db --port 8081``.

SQLite with one connection per request (WAL, so readers and the writer do not block each
other); the external key is UNIQUE, so two concurrent creates of one document end in one row.
"""

from __future__ import annotations

import base64
import hashlib
import sqlite3
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import click
from fastapi import Depends, FastAPI, Header, HTTPException, Response
from pydantic import BaseModel, Field

SCHEMA = """
CREATE TABLE IF NOT EXISTS cases (
    id TEXT PRIMARY KEY,
    cpr TEXT NOT NULL,
    kind TEXT NOT NULL,
    status TEXT NOT NULL DEFAULT 'open' CHECK (status IN ('open', 'closed')),
    reference TEXT,
    title TEXT NOT NULL DEFAULT '',
    opened_at TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS ix_cases_cpr ON cases (cpr);
CREATE TABLE IF NOT EXISTS documents (
    id TEXT PRIMARY KEY,
    external_key TEXT NOT NULL UNIQUE,
    case_id TEXT NOT NULL REFERENCES cases (id),
    title TEXT NOT NULL,
    document_type TEXT NOT NULL,
    document_date TEXT,
    sender_organisation TEXT NOT NULL DEFAULT '',
    letter_id TEXT NOT NULL DEFAULT '',
    medcom_ref TEXT NOT NULL DEFAULT '',
    journalised_at TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS ix_documents_medcom_ref ON documents (medcom_ref);
CREATE TABLE IF NOT EXISTS files (
    document_id TEXT NOT NULL REFERENCES documents (id),
    name TEXT NOT NULL,
    media_type TEXT NOT NULL,
    content BLOB NOT NULL,
    PRIMARY KEY (document_id, name)
);
"""


class CaseIn(BaseModel):
    cpr: str = Field(pattern=r"^\d{10}$")
    kind: str = Field(min_length=1, max_length=100)
    title: str = ""
    reference: str | None = None
    status: str = Field(default="open", pattern="^(open|closed)$")


class CaseSearch(BaseModel):
    cpr: str = Field(pattern=r"^\d{10}$")


class FileIn(BaseModel):
    name: str = Field(min_length=1, max_length=200)
    media_type: str = Field(min_length=1)
    content_base64: str


class DocumentIn(BaseModel):
    external_key: str = Field(min_length=1, max_length=500)
    case_id: str
    title: str = Field(min_length=1, max_length=250)
    document_type: str = Field(min_length=1)
    document_date: datetime | None = None
    sender_organisation: str = ""
    letter_id: str = ""
    medcom_ref: str = ""
    files: list[FileIn] = []


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def _case_json(row: sqlite3.Row) -> dict[str, Any]:
    # The CPR is never echoed: a search answer names cases, not citizens.
    return {k: row[k] for k in ("id", "kind", "status", "reference", "title", "opened_at")}


def _document_json(conn: sqlite3.Connection, row: sqlite3.Row) -> dict[str, Any]:
    files = conn.execute(
        "SELECT name, media_type, content FROM files WHERE document_id = ? ORDER BY name",
        (row["id"],),
    ).fetchall()
    out = {k: row[k] for k in row.keys()}  # noqa: SIM118 - sqlite3.Row has no iteration of keys
    out["files"] = [
        {
            "name": f["name"],
            "media_type": f["media_type"],
            "size": len(f["content"]),
            "sha256": hashlib.sha256(f["content"]).hexdigest(),
        }
        for f in files
    ]
    return out


def create_app(database: str | Path, *, token: str = "") -> FastAPI:
    """The reference ESDH on the SQLite file ``database`` (created when missing)."""
    path = str(database)
    if path != ":memory:":
        Path(path).parent.mkdir(parents=True, exist_ok=True)

    @contextmanager
    def connect() -> Iterator[sqlite3.Connection]:
        conn = sqlite3.connect(path, timeout=30)
        conn.row_factory = sqlite3.Row
        conn.execute("PRAGMA foreign_keys=ON")
        try:
            with conn:
                yield conn
        finally:
            conn.close()

    with connect() as conn:
        conn.execute("PRAGMA journal_mode=WAL")
        conn.executescript(SCHEMA)

    def authorised(authorization: str | None = Header(default=None)) -> None:
        if token and authorization != f"Bearer {token}":
            raise HTTPException(401, "missing or wrong bearer token")

    app = FastAPI(title="medbro reference ESDH", dependencies=[Depends(authorised)])

    @app.post("/v1/cases", status_code=201)
    def create_case(case: CaseIn) -> dict[str, Any]:
        case_id = f"case-{uuid.uuid4().hex[:12]}"
        with connect() as conn:
            conn.execute(
                "INSERT INTO cases (id, cpr, kind, status, reference, title, opened_at) "
                "VALUES (?, ?, ?, ?, ?, ?, ?)",
                (case_id, case.cpr, case.kind, case.status, case.reference, case.title, _now()),
            )
            row = conn.execute("SELECT * FROM cases WHERE id = ?", (case_id,)).fetchone()
        return _case_json(row)

    @app.post("/v1/cases/search")
    def search_cases(query: CaseSearch) -> dict[str, Any]:
        with connect() as conn:
            rows = conn.execute(
                "SELECT * FROM cases WHERE cpr = ? ORDER BY opened_at, id", (query.cpr,)
            ).fetchall()
        return {"cases": [_case_json(r) for r in rows]}

    @app.get("/v1/cases/{case_id}")
    def get_case(case_id: str) -> dict[str, Any]:
        with connect() as conn:
            row = conn.execute("SELECT * FROM cases WHERE id = ?", (case_id,)).fetchone()
            if row is None:
                raise HTTPException(404, f"no case {case_id}")
            docs = conn.execute(
                "SELECT * FROM documents WHERE case_id = ? ORDER BY journalised_at, id", (case_id,)
            ).fetchall()
            return {**_case_json(row), "documents": [_document_json(conn, d) for d in docs]}

    @app.get("/v1/documents")
    def find_documents(external_key: str = "", medcom_ref: str = "") -> dict[str, Any]:
        if bool(external_key) == bool(medcom_ref):
            raise HTTPException(422, "give exactly one of external_key or medcom_ref")
        column, value = ("external_key", external_key) if external_key else ("medcom_ref",
                                                                            medcom_ref)
        with connect() as conn:
            rows = conn.execute(
                f"SELECT * FROM documents WHERE {column} = ? ORDER BY journalised_at", (value,)
            ).fetchall()
            return {"documents": [_document_json(conn, r) for r in rows]}

    @app.post("/v1/documents", status_code=201)
    def create_document(doc: DocumentIn, response: Response) -> dict[str, Any]:
        try:
            contents = [(f, base64.b64decode(f.content_base64, validate=True)) for f in doc.files]
        except ValueError as exc:
            raise HTTPException(422, f"a file is not base64: {exc}") from None
        document_id = f"doc-{uuid.uuid4().hex[:12]}"
        with connect() as conn:
            if conn.execute("SELECT 1 FROM cases WHERE id = ?", (doc.case_id,)).fetchone() is None:
                raise HTTPException(404, f"no case {doc.case_id}")
            try:
                conn.execute(
                    "INSERT INTO documents (id, external_key, case_id, title, document_type, "
                    "document_date, sender_organisation, letter_id, medcom_ref, journalised_at) "
                    "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    (document_id, doc.external_key, doc.case_id, doc.title, doc.document_type,
                     doc.document_date.isoformat() if doc.document_date else None,
                     doc.sender_organisation, doc.letter_id, doc.medcom_ref, _now()),
                )
            except sqlite3.IntegrityError:
                conn.rollback()
                row = conn.execute(
                    "SELECT * FROM documents WHERE external_key = ?", (doc.external_key,)
                ).fetchone()
                response.status_code = 200
                return {**_document_json(conn, row), "created": False}
            conn.executemany(
                "INSERT INTO files (document_id, name, media_type, content) VALUES (?, ?, ?, ?)",
                [(document_id, f.name, f.media_type, content) for f, content in contents],
            )
            row = conn.execute("SELECT * FROM documents WHERE id = ?", (document_id,)).fetchone()
            return {**_document_json(conn, row), "created": True}

    @app.get("/v1/documents/{document_id}")
    def get_document(document_id: str) -> dict[str, Any]:
        with connect() as conn:
            row = conn.execute("SELECT * FROM documents WHERE id = ?", (document_id,)).fetchone()
            if row is None:
                raise HTTPException(404, f"no document {document_id}")
            return _document_json(conn, row)

    @app.get("/v1/documents/{document_id}/files/{name}")
    def get_file(document_id: str, name: str) -> Response:
        with connect() as conn:
            row = conn.execute(
                "SELECT media_type, content FROM files WHERE document_id = ? AND name = ?",
                (document_id, name),
            ).fetchone()
        if row is None:
            raise HTTPException(404, f"no file {name!r} on document {document_id}")
        return Response(content=bytes(row["content"]), media_type=row["media_type"])

    return app


@click.command("esdh-reference-server")
@click.option("--database", default="var/esdh-reference.db", show_default=True,
              help="SQLite file of the reference ESDH.")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8081, show_default=True, type=int)
@click.option("--token-env", default="", help="Environment variable holding a bearer token "
              "clients must send (none: open).")
def serve_command(database: str, host: str, port: int, token_env: str) -> None:
    """Run the reference ESDH (FastAPI + SQLite) that implements docs/esdh.md."""
    import os

    import uvicorn

    token = os.environ.get(token_env, "") if token_env else ""
    if token_env and not token:
        raise click.UsageError(f"environment variable {token_env} is not set")
    uvicorn.run(create_app(database, token=token), host=host, port=port, log_level="info")
