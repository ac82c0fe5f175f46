"""Rendering a console page: the Jinja2 environment, what every template gets, the headers.

Templates live in ``templates/`` inside the package; autoescaping is on for HTML. Every page
answers with a Content-Security-Policy that allows only the console's own scripts, styles and
images (no inline script, nothing from another host: hospitals' networks are closed and a
script injected into a letter's text must not run), and is never cached (patient data).
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from fastapi import Request
from fastapi.responses import HTMLResponse
from jinja2 import Environment, PackageLoader, select_autoescape

from gateway.console import formats, i18n
from gateway.console.auth import Visit

SECURITY_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
        "connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'; "
        "object-src 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "X-Frame-Options": "DENY",
    "Cache-Control": "no-store",
}

# (path under /console, English label, who sees it in the menu: None = everyone)
NAVIGATION: tuple[tuple[str, str, str | None], ...] = (
    ("/console/", "Overview", None),
    ("/console/messages", "Messages", None),
    ("/console/tasks", "Tasks", None),
    ("/console/sla", "SLA", None),
    ("/console/cases", "Case flow", None),
    ("/console/endpoints", "Endpoints", None),
    ("/console/persons", "Persons", "admin"),
    ("/console/audit", "Audit", "admin"),
)

# Words for the values pages show (roles, SLA and message states), translated by the catalogue.
LABELS = {
    "viewer": "Viewer",
    "operator": "Operator",
    "admin": "Administrator",
    "pending": "Pending",
    "at_risk": "At risk",
    "met": "Met",
    "breached": "Breached",
    "received": "Received",
    "validated": "Validated",
    "rejected": "Rejected",
    "routed": "Routed",
    "delivered": "Delivered",
    "acknowledged": "Acknowledged",
    "failed": "Failed",
    "parked": "Parked",
}
ACT_LABELS = {"release": "Release", "replay": "Replay", "close": "Close"}
REASON_LABELS = {"release": "Why release it?", "replay": "Why deliver it again?",
                 "close": "Why give it up?"}
DONE_LABELS = {
    "release": "Released: it is routed again.",
    "replay": "Replayed: it is delivered again as a new attempt.",
    "close": "Closed: medbro gives up on it.",
}

env = Environment(
    loader=PackageLoader("gateway.console", "templates"),
    autoescape=select_autoescape(("html",)),
    trim_blocks=True,
    lstrip_blocks=True,
)
env.filters.update(
    when=formats.when,
    day=formats.day,
    number=formats.number,
    percent=formats.percent,
    hours=formats.hours,
)


def language(request: Request) -> str:
    return i18n.choose(request.query_params.get("lang"), request.cookies.get(i18n.COOKIE))


def render(
    request: Request,
    template: str,
    visit: Visit | None,
    *,
    status_code: int = 200,
    **context: Any,
) -> HTMLResponse:
    """The page ``template`` in the request's language, with the console's headers."""
    lang = language(request)
    _ = i18n.translator(lang)
    user = visit.user if visit else None
    nav = [(path, _(label)) for path, label, role in NAVIGATION
           if user is not None and (role is None or (role == "admin" and user.is_admin))]
    others = [(k, v) for k, v in request.query_params.multi_items() if k != "lang"]
    paging = [(k, v) for k, v in request.query_params.multi_items()
              if k not in ("cursor", "lang")]
    html = env.get_template(template).render(
        _=_,
        lang=lang,
        user=user,
        csrf=visit.csrf if visit else "",
        nav=nav,
        path=request.url.path,
        query=request.url.query,
        query_without_lang=urlencode(others) + "&" if others else "",
        query_without_cursor=urlencode(paging) + "&" if paging else "",
        act_labels=ACT_LABELS,
        reason_labels=REASON_LABELS,
        done_labels=DONE_LABELS,
        labels={**LABELS, **context.pop("labels", {})},
        month=lambda key: formats.month(key, lang),
        **context,
    )
    response = HTMLResponse(html, status_code=status_code, headers=SECURITY_HEADERS)
    if request.query_params.get("lang") in i18n.LANGUAGES:
        response.set_cookie(i18n.COOKIE, lang, max_age=365 * 24 * 3600, path="/console",
                            samesite="strict", httponly=True)
    return response
