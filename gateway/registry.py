"""The partner registry: who medbro talks to, what they accept, how to reach them.

Configuration as code (like SOR/EER): a TOML file in git, loaded and checked once at startup.
Every problem is a ``ConfigError`` naming the file, the endpoint (or organisation) and the field,
so a typo never reaches the message path. Example: ``config/partners.example.toml``.

API keys are never stored: organisations carry the SHA-256 (hex) of each key. The demo keys
whose plaintext is published (``DEMO_KEYS``: README.md, the example partner files) are refused
unless the registry allows them (``MEDBRO_ALLOW_DEMO_KEYS``: demos and tests only).

An endpoint may carry its SOR code (``sor``), which MedCom's FHIR messages name beside the GLN
(the Acknowledgements and CareCommunications medbro writes, docs/fhir.md), and its hospital
departments as (SOR, SKS) pairs (``departments``), so that a HospitalNotification's SLA clock
(keyed by SOR) and an EDIFACT epikrise's (keyed by SKS) are one (gateway.sla.departments).
"""

from __future__ import annotations

import hashlib
import hmac
import tomllib
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)

from gateway.errors import ConfigError
from gateway.routing import Accept, Match, Route, RouteRequest, decide_route

ORGANISATION_KINDS = ("hospital", "gp", "municipality", "region")
# Organisations of these kinds see every hospital in the SLA views (report, worklist, tasks);
# reporting a discharge still needs the hospital in ``hospitals`` (docs/sla.md).
SLA_OVERVIEW_KINDS = ("region", "operator")
LOCAL_CHANNEL = "local"  # medbro itself is the final receiver and answers CTL03/CTL02
# Each inner tuple: at least one of these options must be set (the plugin checks the rest).
_REQUIRED_CHANNEL_FIELDS = {
    "edi_mailbox": (("outbox", "directory"),),
    "http": (("url",),),
    "esdh": (("url",),),
    "vans": (("url",),),
}


@dataclass(frozen=True)
class ChannelSpec:
    """How to reach an endpoint: the plugin ``kind`` and its options as configured."""

    kind: str
    options: dict[str, Any] = field(default_factory=dict, hash=False, compare=False)

    def get(self, name: str, default: Any = None) -> Any:
        return self.options.get(name, default)


# A SOR code (Sundhedsvæsenets Organisationsregister): digits only, at least 11 (HL7 Denmark's
# dk-core SORIdentifier, invariant min-digits-sor, which MedComCoreOrganization's SOR-ID uses)
# and at most 18 (SOR ids are SNOMED CT style identifiers, namespace 1000016; an SCTID has at
# most 18 digits).
SOR_DIGITS = (11, 18)
SKS_DEPARTMENT_LENGTH = 7  # an SKS (SHAK) department code: 4-character sygehus code + 3


def sor_problem(value: str) -> str | None:
    """Why ``value`` is not a SOR code, or None."""
    low, high = SOR_DIGITS
    if not (value.isascii() and value.isdigit() and low <= len(value) <= high):
        return f"{value!r} is not a SOR code ({low} to {high} digits)"
    return None


@dataclass(frozen=True)
class Department:
    """A hospital department as both registers know it: its SOR code (what a FHIR message
    names) and its SKS department code (what an EDIFACT letter names, NAD+SSP)."""

    sor: str
    sks: str
    name: str = ""


@dataclass(frozen=True)
class Endpoint:
    """One receiving (and sending) party, keyed by its GLN (lokationsnummer); ``sor`` is its
    SOR code (MedCom's FHIR Organizations carry both), ``departments`` its departments'."""

    gln: str
    name: str
    kind: str
    accepts: tuple[Accept, ...]
    channel: ChannelSpec
    deliver_as: str = "edifact"
    sor: str = ""
    departments: tuple[Department, ...] = ()

    @property
    def route(self) -> Route:
        return Route(self.gln, self.accepts, self.deliver_as)

    @property
    def is_local(self) -> bool:
        return self.channel.kind == LOCAL_CHANNEL


@dataclass(frozen=True)
class Organisation:
    """An API client: its keys (as SHA-256), the GLNs it may send as, and the hospitals (SKS
    sygehus codes) whose discharges it reports and sees in the SLA views."""

    name: str
    glns: frozenset[str]
    key_hashes: tuple[str, ...]
    hospitals: frozenset[str] = frozenset()
    kind: str | None = None

    def has_key(self, api_key: str) -> bool:
        digest = hash_api_key(api_key)
        return any(hmac.compare_digest(digest, known) for known in self.key_hashes)

    def owns_hospital(self, hospital: str) -> bool:
        """May report discharges of ``hospital`` (an SKS sygehus code)."""
        return hospital in self.hospitals

    @property
    def sla_hospitals(self) -> frozenset[str] | None:
        """The hospitals whose SLA data it may see; None = all (a region or the operator)."""
        return None if self.kind in SLA_OVERVIEW_KINDS else self.hospitals


def hash_api_key(api_key: str) -> str:
    return hashlib.sha256(api_key.encode("utf-8")).hexdigest()


# Keys whose plaintext is published (README.md, config/partners.*.toml): never a real secret.
DEMO_KEYS = ("demo-hospital-key", "demo-municipality-key")
DEMO_KEY_HASHES = frozenset(hashlib.sha256(k.encode()).hexdigest() for k in DEMO_KEYS)


def is_demo_key(api_key: str) -> bool:
    return hash_api_key(api_key) in DEMO_KEY_HASHES


class Registry:
    """Endpoints by GLN and organisations; answers routing questions without IO."""

    def __init__(
        self, endpoints: Iterable[Endpoint] = (), organisations: Iterable[Organisation] = (),
        *, allow_demo_keys: bool = False,
    ) -> None:
        self.allow_demo_keys = allow_demo_keys
        self._endpoints: dict[str, Endpoint] = {}
        for ep in endpoints:
            if ep.gln in self._endpoints:
                raise ConfigError(f"endpoint GLN {ep.gln} is configured twice")
            self._endpoints[ep.gln] = ep
        self.organisations: tuple[Organisation, ...] = tuple(organisations)
        self._routes = {gln: ep.route for gln, ep in self._endpoints.items()}
        self.sor_by_gln: dict[str, str] = {
            ep.gln: ep.sor for ep in self._endpoints.values() if ep.sor}
        # SOR -> SKS of every department (gateway.sla.departments keys the clocks with it)
        self.sks_by_sor: dict[str, str] = {}
        for ep in self._endpoints.values():
            for department in ep.departments:
                if department.sor in self.sks_by_sor:
                    raise ConfigError(f"department SOR {department.sor} is listed twice")
                self.sks_by_sor[department.sor] = department.sks

    @property
    def endpoints(self) -> tuple[Endpoint, ...]:
        return tuple(self._endpoints.values())

    def endpoint(self, gln: str) -> Endpoint | None:
        return self._endpoints.get(gln)

    def sor_of(self, gln: str) -> str:
        """The SOR code the partner file gives ``gln``; "" when it gives none (GLN only)."""
        return self.sor_by_gln.get(gln, "")

    def match(self, request: RouteRequest) -> Match:
        return decide_route(self._routes, request)

    def organisation_for_key(self, api_key: str) -> Organisation | None:
        """The organisation with this key; a published demo key only when allowed."""
        if not self.allow_demo_keys and is_demo_key(api_key):
            return None
        return next((org for org in self.organisations if org.has_key(api_key)), None)

    @classmethod
    def load(cls, path: Path | str | None, *, allow_demo_keys: bool = False) -> Registry:
        """Read and check a partner file; ``None`` gives an empty registry."""
        if path is None:
            return cls(allow_demo_keys=allow_demo_keys)
        path = Path(path)
        try:
            data = tomllib.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise ConfigError(f"{path}: partner configuration file not found") from None
        except tomllib.TOMLDecodeError as exc:
            raise ConfigError(f"{path}: not valid TOML: {exc}") from None
        registry = cls.from_dict(data, source=str(path), allow_demo_keys=allow_demo_keys)
        registry.check_channels(source=str(path))
        return registry

    def check_channels(self, *, source: str = "<config>") -> None:
        """Build every endpoint's channel once, so that an unknown ``kind`` or a bad channel
        option (a timeout that is no number, an unset ``api_key_env``) stops the process at
        start-up with the file, the endpoint and the option named, not at the first delivery."""
        from gateway import plugins
        from gateway.channels import CHANNEL_GROUP

        for i, ep in enumerate(self.endpoints):
            if ep.is_local:
                continue
            try:
                plugins.load(CHANNEL_GROUP, ep.channel.kind)(ep, None)
            except ConfigError as exc:
                problem = str(exc).removeprefix(f"endpoint {ep.gln}: ")
                raise ConfigError(
                    f"{source}: endpoints[{i}] ({ep.gln}).channel: {problem}") from None

    @classmethod
    def from_dict(cls, data: dict[str, Any], *, source: str = "<config>",
                  allow_demo_keys: bool = False) -> Registry:
        try:
            doc = _Document.model_validate(data)
        except ValidationError as exc:
            raise ConfigError(_describe(exc, data, source)) from None
        endpoints = [e.to_endpoint() for e in doc.endpoints]
        _check_departments(endpoints, source)
        known = {e.gln for e in endpoints}
        organisations = []
        for i, org in enumerate(doc.organisations):
            unknown = sorted(set(org.glns) - known)
            if unknown:
                raise ConfigError(
                    f"{source}: organisations[{i}] ({org.name}).glns: "
                    f"GLN {', '.join(unknown)} is not a configured endpoint"
                )
            organisations.append(
                Organisation(
                    org.name,
                    frozenset(org.glns),
                    tuple(org.api_key_sha256),
                    frozenset(org.hospitals),
                    org.kind,
                )
            )
        try:
            return cls(endpoints, organisations, allow_demo_keys=allow_demo_keys)
        except ConfigError as exc:
            raise ConfigError(f"{source}: {exc}") from None


# -- the file format, checked by pydantic ---------------------------------------------------


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class _Accept(_Strict):
    type: str = Field(min_length=1)
    versions: list[str] = []


def _valid_sor(value: str) -> str:
    problem = sor_problem(value)
    if problem is not None:
        raise ValueError(problem)
    return value


class _Department(_Strict):
    sor: str
    sks: str
    name: str = ""

    @field_validator("sor")
    @classmethod
    def _sor(cls, value: str) -> str:
        return _valid_sor(value)

    @field_validator("sks")
    @classmethod
    def _sks(cls, value: str) -> str:
        if not (len(value) == SKS_DEPARTMENT_LENGTH and value.isascii() and value.isalnum()):
            raise ValueError(f"{value!r} is not a {SKS_DEPARTMENT_LENGTH}-character SKS "
                             "department code (the 4-character sygehus code and 3 more)")
        return value


class _Endpoint(_Strict):
    gln: str
    name: str = Field(min_length=1)
    kind: Literal["hospital", "gp", "municipality", "region"]
    accepts: list[_Accept] = []
    channel: dict[str, Any]
    deliver_as: Literal["edifact", "oioxml", "fhir"] = "edifact"
    sor: str | None = None
    departments: list[_Department] = []

    @field_validator("sor")
    @classmethod
    def _sor(cls, value: str | None) -> str | None:
        return None if value is None else _valid_sor(value)

    @field_validator("gln")
    @classmethod
    def _gln(cls, value: str) -> str:
        if not (value.isdigit() and len(value) == 13):
            raise ValueError(f"{value!r} is not a 13-digit GLN")
        return value

    @field_validator("channel")
    @classmethod
    def _channel(cls, value: dict[str, Any]) -> dict[str, Any]:
        kind = value.get("kind")
        if not isinstance(kind, str) or not kind:
            raise ValueError("needs a 'kind' (edi_mailbox, http, esdh, local, ...)")
        for options in _REQUIRED_CHANNEL_FIELDS.get(kind, ()):
            if not any(value.get(o) for o in options):
                raise ValueError(f"kind {kind!r} needs {' or '.join(options)}")
        return value

    def to_endpoint(self) -> Endpoint:
        options = {k: v for k, v in self.channel.items() if k != "kind"}
        return Endpoint(
            gln=self.gln,
            name=self.name,
            kind=self.kind,
            accepts=tuple(Accept(a.type.upper(), tuple(v.upper() for v in a.versions))
                          for a in self.accepts),
            channel=ChannelSpec(self.channel["kind"], options),
            deliver_as=self.deliver_as,
            sor=self.sor or "",
            departments=tuple(Department(d.sor, d.sks, d.name) for d in self.departments),
        )


def _check_departments(endpoints: list[Endpoint], source: str) -> None:
    """A department's SOR code names one SKS department: listed once in the whole file."""
    first: dict[str, str] = {}
    for i, ep in enumerate(endpoints):
        for j, department in enumerate(ep.departments):
            where = f"endpoints[{i}] ({ep.gln}).departments[{j}]"
            if department.sor in first:
                raise ConfigError(f"{source}: {where}.sor: SOR {department.sor} is already "
                                  f"listed at {first[department.sor]}")
            first[department.sor] = where


class _Organisation(_Strict):
    name: str = Field(min_length=1)
    glns: list[str] = []  # required, except for operator and region organisations
    api_key_sha256: list[str] = []
    kind: Literal["hospital", "gp", "municipality", "region", "operator"] | None = None
    hospitals: list[str] = []

    @model_validator(mode="after")
    def _sends_as_something(self) -> _Organisation:
        # An operator (or region) organisation may only watch and act: it needs no GLN.
        if not self.glns and self.kind not in SLA_OVERVIEW_KINDS:
            raise ValueError("glns: at least one GLN is needed (except for kind operator or "
                             "region)")
        return self

    @field_validator("hospitals")
    @classmethod
    def _hospitals(cls, value: list[str]) -> list[str]:
        for code in value:
            if not (len(code) == 4 and code.isascii() and code.isalnum()):
                raise ValueError(f"{code!r} is not a 4-character SKS hospital (sygehus) code")
        if len(set(value)) != len(value):
            raise ValueError("a hospital code is listed twice")
        return value

    @field_validator("api_key_sha256")
    @classmethod
    def _hashes(cls, value: list[str]) -> list[str]:
        for h in value:
            if len(h) != 64 or any(c not in "0123456789abcdef" for c in h.lower()):
                raise ValueError(f"{h[:12]!r}... is not a hex SHA-256 of an API key")
        return [h.lower() for h in value]


class _Document(_Strict):
    endpoints: list[_Endpoint] = []
    organisations: list[_Organisation] = []


def _describe(exc: ValidationError, data: dict[str, Any], source: str) -> str:
    """``partners.toml: endpoints[1] (5790000128686).channel: kind 'http' needs url``."""
    problems = []
    for err in exc.errors():
        loc = list(err["loc"])
        where = ""
        if len(loc) >= 2 and loc[0] in ("endpoints", "organisations") and isinstance(loc[1], int):
            item = (data.get(loc[0]) or [{}])[loc[1]] if isinstance(data.get(loc[0]), list) else {}
            label = item.get("gln") or item.get("name") if isinstance(item, dict) else None
            where = f"{loc[0]}[{loc[1]}]" + (f" ({label})" if label else "")
            rest = loc[2:]
        else:
            rest = loc
        path = "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in rest).lstrip(".")
        msg = err["msg"].removeprefix("Value error, ")
        problems.append(f"{where}{'.' if where and path else ''}{path}: {msg}")
    return f"{source}: " + "; ".join(problems)
