"""Configuration of one endpoint's HTTP push channel, read from the partner registry.

Channel options: ``url`` (required), ``timeout`` (seconds, default 10), ``headers`` (a table of
extra headers), ``api_key_env`` (name of an environment variable holding a bearer token, so
secrets stay out of the partner file in git).
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from gateway.channels import read_http_options


@dataclass(frozen=True)
class HttpPushConfig:
    gln: str
    url: str
    timeout: float = 10.0
    headers: dict[str, str] = field(default_factory=dict, hash=False)
    bearer_token: str = field(default="", repr=False)

    @classmethod
    def from_options(
        cls, gln: str, options: Mapping[str, Any], environ: Mapping[str, str] = os.environ
    ) -> HttpPushConfig:
        http = read_http_options("http", gln, options, environ)
        return cls(gln, http.url, http.timeout, http.headers, http.bearer_token)
