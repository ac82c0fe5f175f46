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

from gateway.errors import ConfigError


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
        url = options.get("url")
        if not isinstance(url, str) or not url.startswith(("http://", "https://")):
            raise ConfigError(f"endpoint {gln}: http channel needs an http(s) 'url', got {url!r}")
        try:
            timeout = float(options.get("timeout", 10.0))
        except (TypeError, ValueError):
            raise ConfigError(f"endpoint {gln}: http 'timeout' is not a number") from None
        headers = options.get("headers", {})
        if not isinstance(headers, Mapping):
            raise ConfigError(f"endpoint {gln}: http 'headers' must be a table")
        token = ""
        if env := options.get("api_key_env"):
            token = environ.get(env, "")
            if not token:
                raise ConfigError(f"endpoint {gln}: environment variable {env} is not set")
        return cls(gln, url, timeout, {str(k): str(v) for k, v in headers.items()}, token)
