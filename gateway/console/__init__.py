"""The operator console: server-rendered pages under /console, in Danish (English available).

Mounted by ``medbro api`` through the ``medbro.routers`` entry point ``console``
(gateway.console.routes). Why Jinja2 + htmx + Chart.js, and what each page is for:
docs/console.md.
"""
