"""Events on a person's timeline, as a Relay connection."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import strawberry
from strawberry.scalars import JSON

from cdp.profiles import Profile, timeline_count
from cdp.timeline import Page, Position, TimelineQuery, encode_cursor
from resolvers.context import Info
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


@strawberry.type
class EventEdge:
    cursor: str
    node: Event


@strawberry.type
class PageInfo:
    has_next_page: bool
    end_cursor: str | None


@strawberry.type(description="A page of a timeline, newest first.")
class EventConnection:
    edges: list[EventEdge]
    page_info: PageInfo
    profile: strawberry.Private[Profile]
    query: strawberry.Private[TimelineQuery]

    @strawberry.field(description="Events matching the filters, on all pages.")
    async def total_count(self, info: Info) -> int:
        return await timeline_count(info.context.deps.stores, self.profile, self.query)

    @classmethod
    def of(cls, page: Page, profile: Profile, query: TimelineQuery) -> EventConnection:
        edges = [
            EventEdge(
                cursor=encode_cursor(Position(doc["timestamp"], doc["_id"])),
                node=Event.from_document(doc),
            )
            for doc in page.items
        ]
        return cls(
            edges=edges,
            page_info=PageInfo(
                has_next_page=page.has_next,
                end_cursor=encode_cursor(page.end) if page.end else None,
            ),
            profile=profile,
            query=query,
        )
