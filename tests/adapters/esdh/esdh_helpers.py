"""Shared helpers of the ESDH tests: letters, deliveries, and the reference server on a port."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path

import uvicorn

from adapters.esdh.reference_server import create_app
from gateway.channels import Delivery
from gateway.model import FreeText, Letter, LetterStatus, Party, Patient, Referral

GP_GLN = "5790000120400"
MUNICIPALITY_GLN = "5790000128700"
CPR = "1502824933"


def dis91(letter_id: str = "BrevNr00129", *, cpr: str = CPR, reference: str = "",
          status: LetterStatus = LetterStatus.NEW) -> Letter:
    return Letter(
        type="DIS91", version="D9134L", ref=letter_id, letter_id=letter_id, status=status,
        authorised_at=datetime(2026, 11, 2, 12, 2),
        sender=Party("SSP", "291714", "YNR", "SFU", names=("Lægehuset", "Else Nielsen")),
        receiver=Party("PO", "461", "KOM", names=("Odense Kommune", "Jobcenter")),
        patient=Patient(cpr, "Mosebryggersen", "Knut Odvar"),
        referral=Referral(reference) if reference else None,
        texts=(FreeText("NC", "Svar på jeres anmodning.\nVenlig hilsen"),),
    )


def delivery(payload: bytes = b"UNA:+.? 'UNB+UNOC:3+...'", *, message_id: str = "m-1",
             control_ref: str = "KuvertNr012234") -> Delivery:
    return Delivery(message_id=message_id, payload=payload, sender_gln=GP_GLN,
                    receiver_gln=MUNICIPALITY_GLN, control_ref=control_ref, type="DIS91",
                    version="D9134L")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextmanager
def reference_server(database: Path, *, token: str = "") -> Iterator[str]:
    """The reference ESDH served by uvicorn on 127.0.0.1 in a thread; yields its base URL."""
    port = free_port()
    config = uvicorn.Config(create_app(database, token=token), host="127.0.0.1", port=port,
                            log_level="warning", lifespan="off")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("the reference ESDH did not start")
        time.sleep(0.02)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)
