"""The hospital push's IO: hand letters to the hub, VANSEnvelopes through reliable mode.

``HospitalIngest`` is built once per app (``for_app``) around the hub the API already holds
(``app.state.hub``, gateway/api/app.py). It never routes on its own: letters go to
``hub.ingest``; envelopes are answered by their envelope plugin (gateway/envelopes.py, which
ends in ``hub.ingest`` too), so routing, storage, receipts and the SLA clocks (the pipeline's
observers see DIS17 and epikriser) stay the pipeline's.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from adapters.hospital.config import HospitalSettings
from adapters.hospital.mapping import Posted, hub_bytes
from gateway.errors import RemoteMessageError


@dataclass
class HospitalIngest:
    hub: Any
    settings: HospitalSettings

    @classmethod
    def for_app(cls, app: Any) -> HospitalIngest:
        """The app's instance, created on first use."""
        existing = getattr(app.state, "hospital_ingest", None)
        if existing is not None:
            return existing
        instance = cls(app.state.hub, HospitalSettings())
        app.state.hospital_ingest = instance
        return instance

    async def letter(self, data: bytes, posted: Posted, *, source: str,
                     glns: frozenset[str]) -> tuple[Any, str]:
        """A raw EDIFACT or OIOXML letter -> ``hub.ingest``: (the hub's result, conversion
        problem). OIOXML that cannot be converted goes to the hub raw, so it is stored and
        refused there, never lost; the problem says why it was not converted."""
        try:
            interchange, problem = hub_bytes(data, posted), ""
        except RemoteMessageError as exc:
            interchange, problem = data, str(exc)
        result = await self.hub.ingest(interchange, received_via=self.settings.received_via,
                                       source=source, authenticated_glns=glns)
        return result, problem
