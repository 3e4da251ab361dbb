"""Mutations that write events and traits."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

import strawberry
from strawberry.scalars import JSON
from strawberry.types.arguments import InputContext
from strawberry.types.base import get_object_definition

from cdp import ingest
from cdp.records import TrackResult
from resolvers.context import Info
from resolvers.types.enums import Channel, EventStatus, RejectionCode
from resolvers.types.person import Person


@strawberry.input(description="An identifier as sent; normalised on the way in.")
class IdentifierInput:
    type: str = strawberry.field(description="email, phone, facebook, device_id, cookie_id, ...")
    value: str


@strawberry.input(description="One interaction to record.")
class EventInput:
    message_id: str | None = strawberry.field(
        default=None, description="Idempotency key; generated when missing."
    )
    type: str
    channel: Channel
    identifiers: list[IdentifierInput]
    timestamp: datetime | None = strawberry.field(
        default=None, description="When it happened; now when missing, UTC when no offset."
    )
    properties: JSON | None = None
    traits: JSON | None = None


@strawberry.type(description="The outcome for one event, in the order sent.")
class EventResult:
    message_id: str
    status: EventStatus
    person_id: strawberry.ID | None
    error: str | None = strawberry.field(description="Why it was rejected, naming the field.")
    error_code: RejectionCode | None
    field: str | None = strawberry.field(description="The input field at fault.")
    blocked_identifiers: list[BlockedIdentifier] = strawberry.field(
        description='Placeholder identifiers (customer_id "0", "undefined", an all-zero '
        "device id) dropped from the event: they link nobody."
    )


@strawberry.type(description="An identifier as normalised.")
class BlockedIdentifier:
    type: str
    value: str


@strawberry.type(name="TrackResult", description="Counts and per-event outcomes of a batch.")
class TrackPayload:
    accepted: int
    duplicates: int
    rejected: int
    blocked_identifiers: int = strawberry.field(
        description="Placeholder identifiers dropped from the batch's events (see "
        "EventResult.blockedIdentifiers)."
    )
    persons_created: int = strawberry.field(
        description="New persons this batch made (an identifier seen for the first time)."
    )
    merges: int = strawberry.field(
        description="Merges of two persons this batch's events proved (see mergeHistory)."
    )
    results: list[EventResult]

    @classmethod
    def of(cls, outcome: TrackResult) -> TrackPayload:
        return cls(
            persons_created=outcome.persons_created,
            merges=outcome.merges,
            accepted=outcome.count(EventStatus.ACCEPTED),
            duplicates=outcome.count(EventStatus.DUPLICATE),
            rejected=outcome.count(EventStatus.REJECTED),
            blocked_identifiers=outcome.blocked,
            results=[
                EventResult(
                    message_id=result.message_id,
                    status=result.status,
                    person_id=strawberry.ID(result.person_id) if result.person_id else None,
                    error=result.error,
                    error_code=result.code,
                    field=result.field,
                    blocked_identifiers=[
                        BlockedIdentifier(type=i.type, value=i.value) for i in result.blocked
                    ],
                )
                for result in outcome.results
            ],
        )


def _event_from_input(cls: type, value: Mapping[str, Any], context: InputContext) -> EventInput:
    """Build an ``EventInput`` from the value graphql-core already checked and coerced.

    Strawberry's own conversion walks every field's type annotation for every value,
    which cost 150 ms for a batch of 500 events (more than storing them); the shape is
    fixed and known, so it is built here directly.
    """
    return EventInput(
        message_id=value.get("messageId"),
        type=value["type"],
        channel=value["channel"],
        identifiers=[
            IdentifierInput(type=i["type"], value=i["value"]) for i in value["identifiers"]
        ],
        timestamp=value.get("timestamp"),
        properties=value.get("properties"),
        traits=value.get("traits"),
    )


get_object_definition(EventInput, strict=True).from_input = _event_from_input


def _raw_event(event: EventInput) -> dict[str, Any]:
    raw: dict[str, Any] = {
        "type": event.type,
        "channel": event.channel,
        "identifiers": [{"type": i.type, "value": i.value} for i in event.identifiers],
    }
    optional = {
        "messageId": event.message_id,
        "timestamp": event.timestamp,
        "properties": event.properties,
        "traits": event.traits,
    }
    raw.update({key: value for key, value in optional.items() if value is not None})
    return raw


@strawberry.type
class IngestMutation:
    @strawberry.mutation(
        description="Record a batch of up to 1,000 events. A bad event is rejected alone, "
        "with the field named; the others are stored. Resending a messageId is answered "
        "DUPLICATE and stores nothing."
    )
    async def track(self, info: Info, events: list[EventInput]) -> TrackPayload:
        deps = info.context.deps
        raw = [_raw_event(e) for e in events]
        if deps.ingest is not None:  # stored with the calls that arrive at the same time
            outcome = await deps.ingest.track(raw)
        else:
            outcome = await ingest.track(deps.stores, raw, deps.limits, refresher=deps.refresher)
        return TrackPayload.of(outcome)

    @strawberry.mutation(
        description="Tie identifiers to one person and set traits, without a business event. "
        "Recorded on the timeline as an `identify` event."
    )
    async def identify(
        self,
        info: Info,
        identifiers: list[IdentifierInput],
        traits: JSON | None = None,
        channel: Channel = Channel.OTHER,
    ) -> Person:
        deps = info.context.deps
        person_id = await ingest.identify(
            deps.stores,
            [{"type": i.type, "value": i.value} for i in identifiers],
            traits,
            deps.limits,
            channel=channel.value,
        )
        return await Person.written(info, person_id)
