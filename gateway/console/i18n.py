"""The console's languages: Danish (the default: operators are Danish) and English.

Templates and views write English text in ``_("...")``; ``DANISH`` maps each such text to its
Danish form. English is the text itself. A text missing from the table is a test failure
(tests/console/test_i18n.py reads every ``_("...")`` in the templates and views), so a page
never shows a half-translated label. Placeholders use ``str.format`` names: ``{count}``.

The language comes from ``?lang=`` (remembered in a cookie), else the cookie, else Danish.
"""

from __future__ import annotations

from collections.abc import Callable

from gateway.console.catalogue import DANISH

LANGUAGES = ("da", "en")
DEFAULT = "da"
COOKIE = "medbro_lang"


def choose(query: str | None, cookie: str | None) -> str:
    """The language of a request: an explicit choice, the remembered one, else Danish."""
    for candidate in (query, cookie):
        if candidate in LANGUAGES:
            return candidate
    return DEFAULT


def translate(lang: str, text: str, **values: object) -> str:
    """``text`` in ``lang``, with ``values`` filled in."""
    if lang == "da":
        text = DANISH.get(text, text)
    return text.format(**values) if values else text


def translator(lang: str) -> Callable[..., str]:
    def _(text: str, **values: object) -> str:
        return translate(lang, text, **values)

    return _
