"""The durable routing pipeline: ingest, route, deliver, receipts, resends (facade: Hub)."""

from gateway.pipeline.hinted import PayloadHint
from gateway.pipeline.hub import Hub
from gateway.pipeline.ingest import IngestResult

__all__ = ["Hub", "IngestResult", "PayloadHint"]
