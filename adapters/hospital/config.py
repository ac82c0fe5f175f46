"""Settings of the hospital push (environment prefix ``MEDBRO_HOSPITAL_``).

``received_via`` names the channel in the store; ``max_body`` bounds a request (MEDBIN-sized
letters are a few MB; the envelope's base64 adds a third). The VANSEnvelope duplicate memory is
configured by adapters/vans/config.py (``MEDBRO_VANS_DATABASE_URL``, default: the gateway's
own database).
"""

from __future__ import annotations

from pydantic_settings import BaseSettings, SettingsConfigDict


class HospitalSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="MEDBRO_HOSPITAL_", extra="ignore", frozen=True)

    received_via: str = "hospital-http"
    max_body: int = 30 * 1024 * 1024
