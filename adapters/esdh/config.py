"""Configuration of one municipality's ESDH channel, read from the partner registry.

Channel options (``[endpoints.channel]`` with ``kind = "esdh"``):

* ``url`` (required): base URL of the ESDH's REST/JSON interface (docs/esdh.md);
* ``vendor``: which client class speaks to it; ``medbro-rest`` (the contract, default). A real
  vendor (SBSYS, Acadre, WorkZone, F2) is added as one class in ``VENDORS``;
* ``api_key_env``: name of an environment variable holding the bearer token (secrets stay out
  of the partner file);
* ``timeout`` (seconds, default 10), ``attempts`` (tenacity attempts per call, default 4);
* ``case_kinds``: a table letter type -> case kind (``DIS01 = "sundhed"``, ``"*"`` for the
  default), merged over mapping.DEFAULT_CASE_KINDS.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from gateway.channels import read_http_options
from gateway.errors import ConfigError

VENDORS = ("medbro-rest",)


@dataclass(frozen=True)
class EsdhConfig:
    gln: str
    url: str
    vendor: str = "medbro-rest"
    timeout: float = 10.0
    attempts: int = 4
    token: str = field(default="", repr=False)
    case_kinds: dict[str, str] = field(default_factory=dict, hash=False)

    @classmethod
    def from_options(
        cls, gln: str, options: Mapping[str, Any], environ: Mapping[str, str] = os.environ
    ) -> EsdhConfig:
        http = read_http_options("esdh", gln, options, environ)
        vendor = options.get("vendor", "medbro-rest")
        if vendor not in VENDORS:
            raise ConfigError(
                f"endpoint {gln}: esdh 'vendor' {vendor!r} is unknown (known: {', '.join(VENDORS)})"
            )
        try:
            attempts = int(options.get("attempts", 4))
        except (TypeError, ValueError):
            raise ConfigError(f"endpoint {gln}: esdh 'attempts' is not a number") from None
        if attempts < 1:
            raise ConfigError(f"endpoint {gln}: esdh 'attempts' must be at least 1")
        kinds = options.get("case_kinds", {})
        if not isinstance(kinds, Mapping):
            raise ConfigError(f"endpoint {gln}: esdh 'case_kinds' must be a table")
        return cls(gln, http.url, vendor, http.timeout, attempts, http.bearer_token,
                   {str(k): str(v) for k, v in kinds.items()})
