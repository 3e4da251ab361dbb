"""Events on a person's timeline, as a Relay connection."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import strawberry
from strawberry.scalars import JSON

from cdp.profile.find import Profile, timeline_count
from cdp.profile.timeline import Page, Position, TimelineQuery, encode_cursor
from resolvers.context import Info
from resolvers.types.connection import Connection
from resolvers.types.enums import Channel


@strawberry.type(description="An identifier as an event carried it (normalised).")
class EventIdentifier:
    type: str
    value: str


@strawberry.type(description="One interaction on one channel.")
class Event:
    id: strawberry.ID = strawberry.field(description="The message id; unique per event.")
    type: str
    channel: Channel
    timestamp: datetime = strawberry.field(description="When it happened (UTC).")
    received_at: datetime = strawberry.field(description="When the platform received it.")
    properties: JSON
    identifiers: list[EventIdentifier]

    @classmethod
    def from_document(cls, doc: dict[str, Any]) -> Event:
        return cls(
            id=strawberry.ID(doc["_id"]),
            type=doc["type"],
            channel=Channel(doc["channel"]),
            timestamp=doc["timestamp"],
            received_at=doc["received_at"],
            properties=JSON(doc.get("properties", {})),
            identifiers=[
                EventIdentifier(type=i["type"], value=i["value"]) for i in doc["identifiers"]
            ],
        )


@strawberry.type(description="A page of a timeline, newest first.")
class EventConnection(Connection[Event]):
    profile: strawberry.Private[Profile]
    query: strawberry.Private[TimelineQuery]
    total: strawberry.Private[int | None] = None  # counted beside the page when asked

    @strawberry.field(description="Events matching the filters, on all pages.")
    async def total_count(self, info: Info) -> int:
        if self.total is not None:
            return self.total
        return await timeline_count(info.context.deps.stores, self.profile, self.query)

    @classmethod
    def from_page(
        cls, page: Page, profile: Profile, query: TimelineQuery, total: int | None = None
    ) -> EventConnection:
        rows = [
            (encode_cursor(Position(doc["timestamp"], doc["_id"])), Event.from_document(doc))
            for doc in page.items
        ]
        return cls.of(rows, page.has_next, profile=profile, query=query, total=total)
