"""Importing straight into the database, for when no service runs (a migration window,
a database that the embedded server of a stopped service holds).

The batches go through the same ``track`` a service runs (validation, stitching, the
identity rules, idempotency by message id, the refresh), so a file imported either way
ends the same; only the HTTP hop and the key are gone.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from cdp.clock import Clock
from cdp.importing.run import Sender
from cdp.ingest import IngestLimits, track
from cdp.records import EventResult
from cdp.store import Stores


def into_database(stores: Stores, limits: IngestLimits, clock: Clock) -> Sender:
    async def send(events: list[dict[str, Any]]) -> dict[str, Any]:
        now: datetime = clock()
        result = await track(stores, events, limits, now)
        return {
            "personsCreated": result.persons_created,
            "merges": result.merges,
            "results": [_as_graphql(answer) for answer in result.results],
        }

    return send


def _as_graphql(answer: EventResult) -> dict[str, Any]:
    """The fields the service would have answered, by their GraphQL names."""
    return {
        "messageId": answer.message_id,
        "status": answer.status.value,
        "personId": answer.person_id,
        "error": answer.error,
        "errorCode": answer.code.value if answer.code else None,
        "field": answer.field,
    }
