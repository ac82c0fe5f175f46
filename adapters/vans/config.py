"""Settings of the VANSEnvelope adapter (environment prefix ``MEDBRO_VANS_``).

``database_url`` holds the duplicate memory (one adapter-owned table, see client.py); empty
means "the gateway's own database" (``MEDBRO_DATABASE_URL``). ``retention_days`` must exceed the
senders' resend window (MedCom: 30 minutes x 2 resends), so the default of 7 days is generous.
A receipt is always sent from the envelope's own receiver (sender and receiver swapped).
"""

from __future__ import annotations

from pydantic_settings import BaseSettings, SettingsConfigDict


class VansSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="MEDBRO_VANS_", extra="ignore", frozen=True)

    database_url: str = ""
    retention_days: int = 7

    def resolved_database_url(self, gateway_database_url: str) -> str:
        return self.database_url or gateway_database_url
