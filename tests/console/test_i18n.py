"""The Danish catalogue is complete and has nothing stale; choosing the language."""

from __future__ import annotations

import re
from importlib.resources import files

import pytest

from gateway.console import cases, i18n, messages, pages
from gateway.console.catalogue import DANISH

CALL = re.compile(r"""_\(\s*(?:"((?:[^"\\]|\\.)*)"|'((?:[^'\\]|\\.)*)')""")
PACKAGE = files("gateway.console")
SKIP = {"i18n.py", "catalogue.py"}  # they describe _() rather than call it


def texts_in_use() -> set[str]:
    found = set(pages.LABELS.values()) | set(cases.LABELS.values())
    found |= set(pages.ACT_LABELS.values()) | set(pages.DONE_LABELS.values())
    found |= set(pages.REASON_LABELS.values())
    found |= set(messages.EVENTS.values())
    found |= {label for _path, label, _role in pages.NAVIGATION}
    sources = [p for p in PACKAGE.joinpath("templates").iterdir() if p.name.endswith(".html")]
    sources += [p for p in PACKAGE.iterdir() if p.name.endswith(".py") and p.name not in SKIP]
    for source in sources:
        for match in CALL.finditer(source.read_text(encoding="utf-8")):
            found.add(match.group(1) if match.group(1) is not None else match.group(2))
    return found


def test_every_text_has_a_danish_form() -> None:
    missing = sorted(texts_in_use() - set(DANISH))
    assert not missing, f"add to gateway/console/catalogue.py: {missing}"


def test_the_catalogue_holds_nothing_unused() -> None:
    stale = sorted(set(DANISH) - texts_in_use())
    assert not stale, f"no page uses: {stale}"


def test_placeholders_survive_translation() -> None:
    for english, danish in DANISH.items():
        fields = sorted(re.findall(r"\{\w+\}", english))
        assert fields == sorted(re.findall(r"\{\w+\}", danish)), english


@pytest.mark.parametrize(("query", "cookie", "chosen"), [
    (None, None, "da"),
    ("en", None, "en"),
    (None, "en", "en"),
    ("da", "en", "da"),
    ("fr", None, "da"),
    ("xx", "en", "en"),
])
def test_language_choice(query, cookie, chosen) -> None:
    assert i18n.choose(query, cookie) == chosen


def test_translate_fills_values_in_either_language() -> None:
    text = "Most urgent first. At most {limit} are shown."
    assert i18n.translate("da", text, limit=200) == "Mest presserende først. Højst 200 vises."
    assert i18n.translate("en", text, limit=200) == "Most urgent first. At most 200 are shown."
