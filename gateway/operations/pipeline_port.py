"""The one narrow place where operations reach into the pipeline.

Today a released or replayed message is moved to ROUTED in the store (actions.py) and its
delivery command is published here, exactly as the pipeline's own operators.requeue does; the
worker then delivers it like any routed message. When the pipeline core takes release/replay as
inputs to ``decide_delivery`` (issue 9), only this module changes.
"""

from __future__ import annotations

from typing import Any

from gateway.pipeline.context import delivery_command
from gateway.pipeline.resend import resend_bundle_id
from gateway.routing import Match, RouteRequest
from gateway.store.tables import MessageRow


def routable(hub: Any, row: MessageRow) -> Match:
    """Would routing deliver ``row`` now (after a reload, its receiver may exist)?"""
    return hub.registry.match(RouteRequest(
        receiver_gln=row.receiver_gln or "", family=row.family, type=row.type,
        version=row.version, format=row.format))


def new_send(row: MessageRow) -> dict[str, str]:
    """A released or replayed FHIR message is a new send (MedCom: a re-dispatch has a new
    envelope, i.e. a new Bundle.id, and the same MessageHeader.id): counted on the row, so the
    worker rewrites it with ``resend_bundle_id`` (gateway.fhir.reliable.resend, the one rewrite
    automatic resends use too). Returns the audit detail naming that Bundle.id ({} for EDIFACT
    and OIOXML, which are sent again byte for byte)."""
    if row.format != "fhir":
        return {}
    row.redeliveries = (row.redeliveries or 0) + 1
    return {"bundle_id": resend_bundle_id(row.id, row.resend_count or 0, row.redeliveries)}


async def deliver(hub: Any, rows: list[MessageRow]) -> None:
    """Ask a worker to deliver these ROUTED messages' interchanges (one command each)."""
    seen: set[str] = set()
    for row in rows:
        if row.interchange_id not in seen:
            seen.add(row.interchange_id)
            await hub.transport.publish(delivery_command(row))
