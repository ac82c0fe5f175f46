"""Where medbro's own XML schemas are, in a checkout and in an installed wheel.

The XSDs live in the repository's ``schemas/`` (oioxml, lae, vans), outside the Python packages,
so that they are found and reviewed as the documents they are. A checkout or an editable install
reads them there; a wheel carries them as the data-only package ``schemas`` (pyproject.toml
includes ``schemas*`` in the package search and ``*.xsd`` as package data), so an installed
medbro finds them without the source tree.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

from gateway.errors import ConfigError

REPO_SCHEMAS = Path(__file__).resolve().parents[1] / "schemas"


def _installed_roots() -> list[Path]:
    spec = importlib.util.find_spec("schemas")
    if spec is None or not spec.submodule_search_locations:
        return []
    return [Path(location) for location in spec.submodule_search_locations]


def schema_path(kind: str, name: str) -> Path:
    """The file ``schemas/<kind>/<name>``, e.g. ``schema_path("vans", "vansenvelope-1.0.4.xsd")``.

    Raises ``ConfigError`` naming the places looked in when the file is in none of them (a broken
    install: better said at the first use than as an lxml "failed to load external entity").
    """
    roots = [REPO_SCHEMAS, *_installed_roots()]
    for root in roots:
        path = root / kind / name
        if path.is_file():
            return path
    looked = ", ".join(str(root / kind) for root in roots)
    raise ConfigError(f"XML schema {kind}/{name} not found (looked in {looked}); "
                      "reinstall medbro or run it from its source tree")


def schema_dir(kind: str) -> Path:
    """The directory of ``schemas/<kind>`` (found through its first file)."""
    roots = [REPO_SCHEMAS, *_installed_roots()]
    for root in roots:
        if (root / kind).is_dir() and any((root / kind).glob("*.xsd")):
            return root / kind
    looked = ", ".join(str(root / kind) for root in roots)
    raise ConfigError(f"XML schemas {kind}/ not found (looked in {looked}); "
                      "reinstall medbro or run it from its source tree")
