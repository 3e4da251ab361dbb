"""Identity graph types: identifiers, the links between them, merge records, rules."""

from __future__ import annotations

import enum
from collections.abc import Mapping
from datetime import datetime
from typing import Any

import strawberry
from strawberry.scalars import JSON

from cdp.json_values import json_ready
from cdp.linking.explain import IdentityGraph as DomainGraph
from cdp.linking.explain import PathStep
from identity import IdentityRules, Strength
from resolvers.context import Info
from resolvers.types.event import Event

strawberry.enum(Strength, description="STRONG identifiers prove a person; WEAK ones are shared.")


@strawberry.type(description="An identifier a person owns, with when it was first and last seen.")
class Identifier:
    type: str
    value: str
    first_seen: datetime
    last_seen: datetime

    @classmethod
    def from_document(cls, doc: dict[str, Any]) -> Identifier:
        return cls(
            type=doc["type"],
            value=doc["value"],
            first_seen=doc["first_seen"],
            last_seen=doc["last_seen"],
        )


@strawberry.type(
    description="A proven link: an event (or an agent) showed both identifiers together."
)
class IdentityEdge:
    from_: str = strawberry.field(name="from", description="Identifier key, type:value.")
    to: str = strawberry.field(description="Identifier key, type:value.")
    event_id: str | None = strawberry.field(description="The event that proved it; null if manual.")
    source: str = strawberry.field(description="The channel, or manual:<agent>.")
    at: datetime

    @strawberry.field(
        description="The event that proved the link, to read; null for a manual link or an "
        "event since erased."
    )
    async def event(self, info: Info) -> Event | None:
        if self.event_id is None:
            return None
        doc = await info.context.loaders.events.load(self.event_id)
        return Event.from_document(doc) if doc else None

    @classmethod
    def from_link(cls, doc: dict[str, Any]) -> IdentityEdge:
        return cls(
            from_=doc["a"],
            to=doc["b"],
            event_id=doc.get("event_id"),
            source=doc["source"],
            at=doc["at"],
        )

    @classmethod
    def from_step(cls, step: PathStep) -> IdentityEdge:
        return cls(
            from_=step.from_key,
            to=step.to_key,
            event_id=step.event_id,
            source=step.source,
            at=step.at,
        )


@strawberry.type
class IdentityGraph:
    nodes: list[Identifier]
    edges: list[IdentityEdge]

    @classmethod
    def of(cls, graph: DomainGraph) -> IdentityGraph:
        return cls(
            nodes=[Identifier.from_document(doc) for doc in graph.nodes],
            edges=[IdentityEdge.from_link(doc) for doc in graph.edges],
        )


@strawberry.enum(description="What changed the identity graph.")
class MergeKind(enum.Enum):
    MERGE = "merge"
    UNLINK = "unlink"


@strawberry.type(description="One merge or unlink, with what caused it and what it changed.")
class MergeRecord:
    id: strawberry.ID
    kind: MergeKind
    at: datetime
    survivor: strawberry.ID = strawberry.field(description="The person that kept its id.")
    absorbed: strawberry.ID | None = strawberry.field(description="The person merged away.")
    created: list[strawberry.ID] = strawberry.field(description="Persons an unlink split off.")
    identifiers: list[str] = strawberry.field(description="Identifiers moved (merge) or removed.")
    event_id: str | None = strawberry.field(description="The event behind it; null if manual.")
    agent: str | None
    reason: str
    replaced_traits: JSON = strawberry.field(
        description="Trait values the merge replaced: {name: {value, set_at, person_id}}."
    )

    @classmethod
    def from_document(cls, doc: dict[str, Any]) -> MergeRecord:
        return cls(
            id=strawberry.ID(doc["_id"]),
            kind=MergeKind(doc.get("kind", "merge")),
            at=doc["at"],
            survivor=strawberry.ID(doc["survivor"]),
            absorbed=strawberry.ID(doc["absorbed"]) if doc.get("absorbed") else None,
            created=[strawberry.ID(p) for p in doc.get("created", [])],
            identifiers=list(doc.get("identifiers", [])),
            event_id=doc.get("event_id"),
            agent=doc.get("agent"),
            reason=doc["reason"],
            replaced_traits=JSON(json_ready(doc.get("replaced_traits", {}))),
        )


@strawberry.type(description="The rule for one identifier type.")
class IdentityRule:
    type: str
    limit: int = strawberry.field(description="Most identifiers of this type one person may hold.")
    strength: Strength
    rank: int = strawberry.field(description="Higher decides first which person an event joins.")
    blocked_values: list[str] = strawberry.field(
        description="Placeholder values that link nobody (compared without case, after "
        "normalisation): an event drops them, or is rejected with BLOCKED_IDENTIFIER when "
        "nothing else identifies it."
    )
    blocked_patterns: list[str] = strawberry.field(
        description="Regular expressions for placeholder values (matching the whole value, "
        "without case)."
    )
    blocked: int = strawberry.field(
        description="Identifiers of this type dropped as placeholders so far."
    )
    trusted: bool = strawberry.field(
        description="Proves a person on its own: a merge it proves is never held for review."
    )

    @classmethod
    def all_of(cls, rules: IdentityRules, blocked: Mapping[str, int]) -> list[IdentityRule]:
        return [
            cls(
                type=t,
                limit=r.limit,
                strength=r.strength,
                rank=r.rank,
                blocked_values=sorted(r.blocked.values),
                blocked_patterns=list(r.blocked.patterns),
                blocked=blocked.get(t, 0),
                trusted=r.trusted,
            )
            for t, r in sorted(rules.types.items(), key=lambda item: (-item[1].rank, item[0]))
        ]
