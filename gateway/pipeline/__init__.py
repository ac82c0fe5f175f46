"""The durable routing pipeline: ingest, route, deliver, receipts, resends (facade: Hub).

Reading order: inputs.py (what arrives) -> ingest_verdict.py (``decide_ingest``) -> ingest.py
(the one writer) -> delivery_verdict.py (``decide_delivery``) -> worker.py (the one consumer)
-> resend.py / retries.py (when to try again). Operators act in gateway/operations
"""

from gateway.pipeline.hub import Hub
from gateway.pipeline.ingest import IngestResult
from gateway.pipeline.inputs import PayloadHint

__all__ = ["Hub", "IngestResult", "PayloadHint"]
