"""docker-compose.yml, checked without Docker: every URL of its partner file and Prometheus
config names a compose service on a port that service listens on, every MEDBRO_* variable it
sets is a known setting (gateway/settings.py), one image is built once, every service has a
healthcheck, and the mounted files exist and load."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
import yaml

from gateway.caseflow.config import CaseflowConfig
from gateway.registry import Registry
from gateway.settings import known_variables

ROOT = Path(__file__).resolve().parents[1]
DEFAULT = re.compile(r"\$\{[A-Z0-9_]+:-([^}]*)\}")
# Ports the third-party images listen on; medbro services say theirs with --port.
IMAGE_PORTS = {"rabbitmq": {5672, 15672}, "postgres": {5432}, "prom/prometheus": {9090}}


def interpolate(value: str) -> str:
    """Compose's ``${VAR:-default}`` with every variable unset: the defaults."""
    return DEFAULT.sub(lambda m: m.group(1), value)


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    return yaml.safe_load((ROOT / "docker-compose.yml").read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def services(compose) -> dict[str, Any]:
    return compose["services"]


def medbro_services(services: dict[str, Any]) -> dict[str, Any]:
    return {name: s for name, s in services.items() if s.get("command", [None])[0] == "medbro"}


def environment(service: dict[str, Any]) -> dict[str, str]:
    env = service.get("environment") or {}
    if isinstance(env, list):
        env = dict(item.split("=", 1) for item in env)
    return {k: interpolate(str(v)) for k, v in env.items()}


def host_path(service: dict[str, Any], container_path: str) -> Path:
    """The repository file a bind mount of ``service`` shows at ``container_path``."""
    for volume in service.get("volumes", []):
        source, _, target = volume.partition(":")
        target = target.split(":")[0]
        if source.startswith(".") and container_path.startswith(target.rstrip("/") + "/"):
            return ROOT / source / container_path[len(target.rstrip("/")) + 1:]
    raise AssertionError(f"{container_path} is not on a bind mount of the service")


def listens_on(service: dict[str, Any]) -> set[int]:
    command = service.get("command") or []
    ports = {int(command[command.index(flag) + 1])
             for flag in ("--port", "--metrics-port") if flag in command}
    if ports:
        return ports
    image = service["image"].split(":")[0]
    return IMAGE_PORTS.get(image, set())


def test_one_image_built_once_and_run_by_every_medbro_service(services):
    built = [name for name, s in services.items() if "build" in s]
    assert len(built) == 1, built
    image = services[built[0]]["image"]
    ours = medbro_services(services)
    assert {"api", "worker", "mailbox", "esdh"} <= set(ours)
    assert {name: s["image"] for name, s in ours.items()} == dict.fromkeys(ours, image)
    assert all(s.get("pull_policy") == "never" for name, s in ours.items() if name not in built)


def test_every_service_has_a_healthcheck_and_its_dependencies_exist(services):
    assert [name for name, s in services.items() if not s.get("healthcheck")] == []
    for name, s in services.items():
        for dependency in s.get("depends_on") or {}:
            assert dependency in services, (name, dependency)


def test_only_the_api_port_is_published(services):
    published = {name: s["ports"] for name, s in services.items() if s.get("ports")}
    assert published == {"api": ["8000:8000"]}


def test_every_medbro_variable_is_a_known_setting(services):
    set_anywhere = {key for s in services.values() for key in environment(s)
                    if key.startswith("MEDBRO_")}
    assert set_anywhere, "no MEDBRO_* settings in docker-compose.yml"
    assert set_anywhere - known_variables() == set()
    for name in ("api", "worker", "mailbox"):
        assert {"MEDBRO_CONFIG", "MEDBRO_CASEFLOW_CONFIG", "MEDBRO_DATABASE_URL",
                "MEDBRO_BROKER_URL"} <= set(environment(services[name])), name


def test_no_compose_variable_looks_like_a_setting_it_is_not():
    text = (ROOT / "docker-compose.yml").read_text(encoding="utf-8")
    used = set(re.findall(r"\$\{(MEDBRO_[A-Z0-9_]+)", text))
    assert used - known_variables() == set()


def test_database_and_broker_urls_name_services_and_their_credentials(services):
    env = environment(services["api"])
    for variable, service, user_key, password_key in (
            ("MEDBRO_DATABASE_URL", "postgres", "POSTGRES_USER", "POSTGRES_PASSWORD"),
            ("MEDBRO_BROKER_URL", "rabbitmq", "RABBITMQ_DEFAULT_USER", "RABBITMQ_DEFAULT_PASS")):
        url = urlsplit(env[variable])
        assert url.hostname == service and url.port in listens_on(services[service]), variable
        own = environment(services[service])
        assert (url.username, url.password) == (own[user_key], own[password_key]), variable
        assert url.username != "guest", variable  # not the broker's well-known default


def test_every_partner_url_names_a_compose_service(services):
    api = services["api"]
    partner_file = host_path(api, environment(api)["MEDBRO_CONFIG"])
    registry = Registry.load(partner_file)  # loads and builds every channel
    urls = [ep.channel.get("url") for ep in registry.endpoints if ep.channel.get("url")]
    assert urls, f"{partner_file.name} has no URL to check"
    for url in urls:
        parts = urlsplit(url)
        assert parts.hostname in services, f"{url}: no compose service {parts.hostname!r}"
        assert parts.port in listens_on(services[parts.hostname]), f"{url}: port"
    for ep in registry.endpoints:
        directory = ep.channel.get("directory") or ""
        assert not directory.startswith("/") or directory.startswith("/var/lib/medbro/"), ep


def test_the_case_flow_reaches_endpoints_of_the_partner_file(services):
    api = services["api"]
    env = environment(api)
    registry = Registry.load(host_path(api, env["MEDBRO_CONFIG"]))
    config = CaseflowConfig.load(host_path(api, env["MEDBRO_CASEFLOW_CONFIG"]))
    glns = {ep.gln for ep in registry.endpoints}
    assert config.address_book and set(config.address_book.values()) <= glns
    assert config.coordinators


def test_prometheus_scrapes_the_api_and_loads_medbros_rules(services):
    prometheus = services["prometheus"]
    command = prometheus["command"]
    config_path = next(c.split("=", 1)[1] for c in command if c.startswith("--config.file="))
    config = yaml.safe_load(host_path(prometheus, config_path).read_text(encoding="utf-8"))
    targets = [t for job in config["scrape_configs"] for sc in job.get("static_configs", [])
               for t in sc["targets"]]
    targets += [f"{name}:{sd['port']}" for job in config["scrape_configs"]
                for sd in job.get("dns_sd_configs", []) for name in sd["names"]]
    assert targets
    scraped = {t.partition(":")[0] for t in targets}
    assert {"api", "worker", "mailbox"} <= scraped  # every medbro process serves /metrics
    for target in targets:
        host, _, port = target.partition(":")
        assert host in services and int(port) in listens_on(services[host]), target
    rules = [host_path(prometheus, path) for path in config["rule_files"]]
    assert [r.name for r in rules] == ["medbro-rules.yml"] and all(r.is_file() for r in rules)
    assert yaml.safe_load(rules[0].read_text(encoding="utf-8"))["groups"]


def test_the_image_has_the_directories_its_volumes_mount(services):
    dockerfile = (ROOT / "Dockerfile").read_text(encoding="utf-8")
    for name in medbro_services(services):
        for volume in services[name].get("volumes", []):
            source, _, target = volume.partition(":")
            if not source.startswith("."):  # a named volume takes the image's owner
                assert target.split(":")[0] in dockerfile, (name, volume)


def test_every_medbro_command_it_runs_exists(services):
    commands = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))[
        "project"]["entry-points"]["medbro.commands"]
    run = [s["command"] for s in medbro_services(services).values()]
    run += [s["healthcheck"]["test"][1:] for s in services.values()
            if s["healthcheck"]["test"][1] == "medbro"]
    assert [c[1] for c in run if c[1] not in commands] == []
