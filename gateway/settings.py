"""Process settings from the environment (prefix ``MEDBRO_``), checked once at startup.

A bad value stops the process with a ``ConfigError`` that names the environment variable, so an
operator never has to guess which of a dozen settings is wrong.

=============================== ========================= ==================================
variable                        default                   meaning
=============================== ========================= ==================================
MEDBRO_DATABASE_URL             sqlite:///./var/medbro.db store (``postgresql+psycopg://``)
MEDBRO_BROKER_URL               memory://                 ``amqp://...`` for RabbitMQ
MEDBRO_CONFIG                   (none: no endpoints)      partner registry TOML file
MEDBRO_BROKER_PREFIX            medbro                    names every exchange and queue
MEDBRO_RECEIPT_TIMEOUT_SECONDS  1800                      resend when no receipt by then
MEDBRO_MAX_RESENDS              2                         then an operator task
MEDBRO_PREFETCH                 32                        unacked messages per queue
MEDBRO_RETRY_DELAYS_SECONDS     [5, 30, 300]              delay tiers for failed deliveries
MEDBRO_MAX_DELIVERY_ATTEMPTS    6                         then parked + operator task
MEDBRO_POISON_DELIVERY_LIMIT    20                        crashes before the parking queue
MEDBRO_SCAN_INTERVAL_SECONDS    30                        receipt/recovery scanner period
MEDBRO_SLA_SWEEP_INTERVAL_SECONDS 60                      SLA sweep + backlog gauges period
MEDBRO_REPUBLISH_AFTER_SECONDS  300                       routed, undelivered: publish again
MEDBRO_PUBLISH_PATIENCE_SECONDS 8                         ingest waits out a broker restart
MEDBRO_DB_POOL_SIZE             16                        DB connections/threads per process
MEDBRO_MEDBRO_GLN               5790000000000             sender id of medbro's CTL01s
MEDBRO_CASEFLOW_CONFIG          (none: no case flow)      the case flow's TOML file
MEDBRO_ALLOW_DEMO_KEYS          false                     accept the published demo API keys
MEDBRO_METRICS_PORT             0 (none)                  worker/mailbox-watch ``/metrics`` port
MEDBRO_METRICS_HOST             127.0.0.1                 the address that port is bound to
=============================== ========================= ==================================

``Settings.load`` also checks, once at start-up, what other parts read from the environment
(``MEDBRO_SLA_*``, the case flow's file), so that a typo stops every process at once with the
variable, file, entry and field named, not a request hours later. ``OTHER_VARIABLES`` lists the
variables read outside this class; ``known_variables()`` is every name a medbro process reads.
"""

from __future__ import annotations

import ipaddress
import re
from pathlib import Path

from pydantic import ValidationError, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

from gateway.errors import ConfigError

ENV_PREFIX = "MEDBRO_"


class Settings(BaseSettings):
    """Everything a medbro process needs to know about its surroundings."""

    model_config = SettingsConfigDict(env_prefix=ENV_PREFIX, extra="ignore", frozen=True)

    database_url: str = "sqlite:///./var/medbro.db"
    broker_url: str = "memory://"
    config: Path | None = None  # partner registry TOML; None = no endpoints (nothing routable)
    broker_prefix: str = "medbro"
    receipt_timeout_seconds: float = 1800.0  # MedCom: resend after 30 minutes without receipt
    max_resends: int = 2  # MedCom: never more than 2 automatic resends
    prefetch: int = 32
    # Delivery retries after a transient channel failure: one broker delay queue per tier.
    retry_delays_seconds: tuple[float, ...] = (5.0, 30.0, 300.0)
    max_delivery_attempts: int = 6
    poison_delivery_limit: int = 20  # quorum delivery-limit before a message is dead-lettered
    scan_interval_seconds: float = 30.0  # receipt-timeout and recovery scanner
    sla_sweep_interval_seconds: float = 60.0  # SLA at-risk/breach sweep + queue gauges
    republish_after_seconds: float = 300.0  # routed but not delivered for this long: publish again
    publish_patience_seconds: float = 8.0  # ingest retries a publish this long (broker restart)
    db_pool_size: int = 16  # database connections = threads running store work per process
    medbro_gln: str = "5790000000000"  # our own location number, sender of the CTL01s we write
    allow_demo_keys: bool = False  # the README's demo keys authenticate (demos, tests) or not
    # The case flow's TOML (gateway/caseflow/config.py reads it); checked here at start-up.
    caseflow_config: Path | None = None
    # ``/metrics`` of the processes without an HTTP API (worker, mailbox-watch); 0 = none.
    # ``medbro api`` serves /metrics on its own port. Loopback unless the host says otherwise.
    metrics_port: int = 0
    metrics_host: str = "127.0.0.1"

    @field_validator("broker_url")
    @classmethod
    def _broker_scheme(cls, value: str) -> str:
        if value.startswith("memory://"):
            return value
        if not value.startswith(("amqp://", "amqps://")):
            raise ValueError("must start with memory://, amqp:// or amqps://")
        from gateway.transport.addresses import broker_addresses

        broker_addresses(value)  # every node of a cluster, comma-separated; names a bad one
        return value

    @field_validator("database_url")
    @classmethod
    def _database_url(cls, value: str) -> str:
        try:
            backend = make_url(value).get_backend_name()
        except ArgumentError as exc:
            raise ValueError(f"not a database URL: {exc}") from None
        if backend not in ("sqlite", "postgresql"):
            raise ValueError(f"unsupported database {backend!r} (sqlite or postgresql)")
        return value

    @field_validator("config")
    @classmethod
    def _config_exists(cls, value: Path | None) -> Path | None:
        if value is not None and not value.is_file():
            raise ValueError(f"partner configuration file {str(value)!r} does not exist")
        return value

    @field_validator("caseflow_config")
    @classmethod
    def _caseflow_config(cls, value: Path | None) -> Path | None:
        if value is not None:
            from gateway.caseflow.config import CaseflowConfig

            CaseflowConfig.load(value)  # a ConfigError names the file, the entry and the field
        return value

    @field_validator("metrics_port")
    @classmethod
    def _port(cls, value: int) -> int:
        if not 0 <= value <= 65535:
            raise ValueError("must be a TCP port, 1-65535 (0: no metrics server)")
        return value

    @field_validator("metrics_host")
    @classmethod
    def _host(cls, value: str) -> str:
        address = value.strip().strip("[]")
        try:
            return str(ipaddress.ip_address(address))
        except ValueError:
            pass
        if re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9.-]{0,252}", address):
            return address
        raise ValueError("must be a host name or an IP address (127.0.0.1, 0.0.0.0, ::1)")

    @field_validator("broker_prefix")
    @classmethod
    def _prefix(cls, value: str) -> str:
        if not value or any(c in value for c in " #*"):
            raise ValueError("must be a non-empty name without spaces, '#' or '*'")
        return value

    @field_validator(
        "receipt_timeout_seconds", "scan_interval_seconds", "republish_after_seconds",
        "publish_patience_seconds", "sla_sweep_interval_seconds",
    )
    @classmethod
    def _positive(cls, value: float) -> float:
        if value <= 0:
            raise ValueError("must be greater than 0")
        return value

    @field_validator(
        "max_resends", "prefetch", "max_delivery_attempts", "poison_delivery_limit",
        "db_pool_size")
    @classmethod
    def _count(cls, value: int) -> int:
        if value < 0:
            raise ValueError("must not be negative")
        return value

    @field_validator("retry_delays_seconds")
    @classmethod
    def _tiers(cls, value: tuple[float, ...]) -> tuple[float, ...]:
        if not value or any(v <= 0 for v in value):
            raise ValueError("needs at least one delay, each greater than 0")
        return tuple(sorted(value))

    @property
    def uses_memory_broker(self) -> bool:
        return self.broker_url.startswith("memory://")

    @classmethod
    def load(cls, **overrides: object) -> Settings:
        """Settings from the environment plus ``overrides``; a ``ConfigError`` names what is bad."""
        try:
            settings = cls(**overrides)  # type: ignore[arg-type]
        except ValidationError as exc:
            problems = []
            for err in exc.errors():
                field = str(err["loc"][0]) if err["loc"] else "?"
                msg = err["msg"].removeprefix("Value error, ")
                problems.append(f"{ENV_PREFIX}{field.upper()}: {msg}")
            raise ConfigError("environment: " + "; ".join(problems)) from None
        from gateway.sla.config import SlaConfig

        SlaConfig.from_env()  # MEDBRO_SLA_*: a ConfigError names the variable
        return settings


# Variables read outside ``Settings`` (by the SLA configuration and by the adapters' own
# settings classes), with the module that reads each. tests/test_settings_known.py checks that
# each module still reads it, so this list cannot drift from the code.
OTHER_VARIABLES: dict[str, str] = {
    "MEDBRO_SLA_GOAL_1": "gateway/sla/config.py",
    "MEDBRO_SLA_GOAL_3": "gateway/sla/config.py",
    "MEDBRO_SLA_AT_RISK_HOURS": "gateway/sla/config.py",
    "MEDBRO_SLA_WORKING_HOURS": "gateway/sla/config.py",
    "MEDBRO_SLA_EXTRA_CLOSED_DAYS": "gateway/sla/config.py",
    "MEDBRO_SLA_PLAUSIBLE_DAYS": "gateway/sla/config.py",
    "MEDBRO_RETENTION_DAYS": "gateway/retention/cli.py",
    "MEDBRO_HOSPITAL_MAX_BODY": "adapters/hospital/config.py",
    "MEDBRO_HOSPITAL_RECEIVED_VIA": "adapters/hospital/config.py",
    "MEDBRO_VANS_DATABASE_URL": "adapters/vans/config.py",
    "MEDBRO_VANS_RETENTION_DAYS": "adapters/vans/config.py",
}


def known_variables() -> frozenset[str]:
    """Every ``MEDBRO_*`` variable a medbro process reads."""
    own = {ENV_PREFIX + name.upper() for name in Settings.model_fields}
    return frozenset(own | set(OTHER_VARIABLES))
