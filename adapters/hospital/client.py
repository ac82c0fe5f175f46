"""The hospital push's IO: hand letters to the hub, VANSEnvelopes through reliable mode.

``HospitalIngest`` is built once per app (``for_app``) around the hub the API already holds
(``app.state.hub``, gateway/api/app.py). It never routes on its own: letters go to
``hub.ingest`` and envelopes to ``adapters.vans.VansIngest`` (which ends in ``hub.ingest``), so
routing, storage, receipts and the SLA clocks (the pipeline's observers see DIS17 and
epikriser) stay the pipeline's.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from adapters.hospital.config import HospitalSettings
from adapters.hospital.mapping import Posted, hub_bytes
from adapters.vans import Received
from adapters.vans.ingest import VansIngest


@dataclass
class HospitalIngest:
    hub: Any
    vans: VansIngest
    settings: HospitalSettings

    @classmethod
    def for_app(cls, app: Any) -> HospitalIngest:
        """The app's instance, created on first use (the VANS store table is made then)."""
        existing = getattr(app.state, "hospital_ingest", None)
        if existing is not None:
            return existing
        settings = HospitalSettings()
        hub = app.state.hub
        instance = cls(hub, VansIngest.for_hub(hub, received_via=settings.received_via),
                       settings)
        app.state.hospital_ingest = instance
        return instance

    async def letter(self, data: bytes, posted: Posted, *, source: str,
                     glns: frozenset[str]) -> Any:
        """A raw EDIFACT or OIOXML letter -> ``hub.ingest``; returns the hub's result."""
        return await self.hub.ingest(hub_bytes(data, posted),
                                     received_via=self.settings.received_via,
                                     source=source, authenticated_glns=glns)

    async def envelope(self, data: bytes, *, source: str, glns: frozenset[str]) -> Received:
        return await self.vans.receive(data, source=source, glns=glns)

    def close(self) -> None:
        self.vans.close()
