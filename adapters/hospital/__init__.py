"""Hospital side: hospitals push letters (EDIFACT, OIOXML, VANSEnvelope) and discharge events
over HTTP; everything is handed to the hub (routing, store, receipts, SLA clocks)."""

from __future__ import annotations

from adapters.hospital.client import HospitalIngest
from adapters.hospital.config import HospitalSettings
from adapters.hospital.mapping import Posted, detect, hub_bytes
from adapters.hospital.testing import FakeIngestResult, RecordingHub

__all__ = [
    "FakeIngestResult",
    "HospitalIngest",
    "HospitalSettings",
    "Posted",
    "RecordingHub",
    "detect",
    "hub_bytes",
]
