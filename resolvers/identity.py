"""Queries and mutations over the identity graph: explain, review, correct, configure."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

import strawberry
from strawberry.scalars import JSON

from cdp.linking.corrections import dismiss_conflict, merge_manually, unlink_identifier
from cdp.linking.explain import conflicts_count, conflicts_page, identity_path
from cdp.linking.identity_rules import (
    blocked_counts,
    current_rules,
    parse_settings,
    rule_changes,
    set_rules,
)
from cdp.profile.timeline import Position, encode_cursor
from identity import Strength
from resolvers.context import Info
from resolvers.ingest import IdentifierInput
from resolvers.types.connection import Connection
from resolvers.types.identity import IdentityEdge, IdentityRule
from resolvers.types.person import Person


@strawberry.type(description="Why two identifiers are one person: the links between them.")
class IdentityPath:
    linked: bool
    reason: str
    steps: list[IdentityEdge] = strawberry.field(description="In order from `from` to `to`.")
    person_id: strawberry.Private[str | None]

    @strawberry.field(description="The person holding both, when they are linked.")
    async def person(self, info: Info) -> Person | None:
        return await Person.find(info, self.person_id) if self.person_id else None


@strawberry.type(description="A link the identity rules refused, kept for review.")
class IdentityConflict:
    id: strawberry.ID
    at: datetime
    rule: str = strawberry.field(description="The rule that refused the link.")
    identifier: str = strawberry.field(description="The identifier (type:value) in dispute.")
    event_id: str = strawberry.field(description="The event that carried both.")
    person_id: strawberry.Private[str]
    other_id: strawberry.Private[str]

    @strawberry.field(description="The person the event was stored on.")
    async def person(self, info: Info) -> Person | None:
        profile = await info.context.loaders.persons.load(self.person_id)
        return Person(profile=profile) if profile else None

    @strawberry.field(description="The person the rule kept the identifier with.")
    async def other(self, info: Info) -> Person | None:
        profile = await info.context.loaders.persons.load(self.other_id)
        return Person(profile=profile) if profile else None

    @classmethod
    def from_document(cls, doc: dict[str, Any]) -> IdentityConflict:
        return cls(
            id=strawberry.ID(doc["_id"]),
            at=doc["at"],
            rule=doc["rule"],
            identifier=doc["key"],
            event_id=doc["event_id"],
            person_id=doc["person_id"],
            other_id=doc["other_id"],
        )


@strawberry.type(description="Links the identity rules refused, newest first.")
class IdentityConflictConnection(Connection[IdentityConflict]):
    @strawberry.field
    async def total_count(self, info: Info) -> int:
        return await conflicts_count(info.context.deps.stores)


@strawberry.type
class UnlinkResult:
    persons: list[Person] = strawberry.field(
        description="The persons that now exist: the main part first, the detached identifier's "
        "person last."
    )


@strawberry.type(description="One change to the identity rules, as an admin made it.")
class IdentityRuleChange:
    at: datetime
    agent: str | None = strawberry.field(description="The API key that made it: name and id.")
    changes: JSON = strawberry.field(description="What was asked, per identifier type.")


@strawberry.input(description="A change to one identifier type's rule.")
class IdentityRuleInput:
    type: str
    limit: int | None = strawberry.field(default=None, description="Unchanged when left out.")
    strength: Strength | None = strawberry.field(
        default=None, description="Unchanged when left out."
    )
    rank: int | None = strawberry.field(default=None, description="Unchanged when left out.")
    blocked_values: list[str] | None = strawberry.field(
        default=None, description="Replaces the type's placeholder values; unchanged when left out."
    )
    blocked_patterns: list[str] | None = strawberry.field(
        default=None,
        description="Replaces the type's placeholder patterns (regular expressions); unchanged "
        "when left out.",
    )
    trusted: bool | None = strawberry.field(
        default=None,
        description="Whether this type proves a person on its own (a login's customer id), so "
        "its merges are never held for review; unchanged when left out.",
    )


@strawberry.type
class IdentityQuery:
    @strawberry.field(description="Why are these one person? The shortest chain of proven links.")
    async def identity_path(
        self,
        info: Info,
        from_: Annotated[IdentifierInput, strawberry.argument(name="from")],
        to: IdentifierInput,
    ) -> IdentityPath:
        deps = info.context.deps
        path = await identity_path(
            deps.stores, (from_.type, from_.value), (to.type, to.value), deps.default_phone_region
        )
        return IdentityPath(
            linked=path.linked,
            reason=path.reason,
            steps=[IdentityEdge.from_step(step) for step in path.steps],
            person_id=path.person_id,
        )

    @strawberry.field(description="Links the identity rules refused, newest first.")
    async def identity_conflicts(
        self, info: Info, first: int = 50, after: str | None = None
    ) -> IdentityConflictConnection:
        page = await conflicts_page(info.context.deps.stores, first, after)
        rows = [
            (encode_cursor(Position(doc["at"], doc["_id"])), IdentityConflict.from_document(doc))
            for doc in page.items
        ]
        return IdentityConflictConnection.of(rows, page.has_next)

    @strawberry.field(description="Who changed the identity rules, when and how; newest first.")
    async def identity_rule_changes(self, info: Info) -> list[IdentityRuleChange]:
        return [
            IdentityRuleChange(at=c["at"], agent=c.get("agent"), changes=JSON(c["changes"]))
            for c in await rule_changes(info.context.deps.stores)
        ]

    @strawberry.field(description="The identity rules in force, strongest first.")
    async def identity_rules(self, info: Info) -> list[IdentityRule]:
        deps = info.context.deps
        rules = await current_rules(deps.stores, deps.limits.identity)
        return IdentityRule.all_of(rules, await blocked_counts(deps.stores))


@strawberry.type
class IdentityMutation:
    @strawberry.mutation(
        description="Merge `from` into `into` (an agent's decision). The identity rules still "
        "apply: a refusal is a CONFLICT naming the rule. `into`'s id is kept; both ids keep "
        "working."
    )
    async def merge_persons(
        self,
        info: Info,
        into: strawberry.ID,
        from_: Annotated[strawberry.ID, strawberry.argument(name="from")],
        reason: str,
    ) -> Person:
        deps = info.context.deps
        survivor = await merge_manually(
            deps.stores,
            str(into),
            str(from_),
            reason=reason,
            agent=info.context.principal.agent,
            rules=await current_rules(deps.stores, deps.limits.identity),
            now=info.context.deps.clock(),
        )
        return await Person.written(info, survivor)

    @strawberry.mutation(
        description="Detach an identifier from a person: it becomes a person of its own with the "
        "events that carried no other identifier of theirs, and its links are removed. If that "
        "disconnects the graph, the person splits; every event follows the identifiers it "
        "carried, and traits are rebuilt from each person's events."
    )
    async def unlink_identifier(
        self, info: Info, person_id: strawberry.ID, identifier: IdentifierInput, reason: str
    ) -> UnlinkResult:
        deps = info.context.deps
        persons = await unlink_identifier(
            deps.stores,
            str(person_id),
            (identifier.type, identifier.value),
            reason=reason,
            agent=info.context.principal.agent,
            region=deps.default_phone_region,
            now=info.context.deps.clock(),
        )
        found = [await Person.find(info, p) for p in persons]
        return UnlinkResult(persons=[p for p in found if p is not None])

    @strawberry.mutation(
        description="Dismiss an identity conflict (a refused link, or a merge held for review "
        "that should not happen): it leaves identityConflicts. Returns true."
    )
    async def dismiss_identity_conflict(self, info: Info, id: strawberry.ID) -> bool:
        await dismiss_conflict(info.context.deps.stores, str(id))
        return True

    @strawberry.mutation(
        description="Change the limit, strength, rank or placeholder blocklist of identifier "
        "types, for every instance. Types and fields not named keep their rule. Returns the rules "
        "now in force."
    )
    async def set_identity_rules(
        self, info: Info, rules: list[IdentityRuleInput]
    ) -> list[IdentityRule]:
        deps = info.context.deps
        changes = parse_settings(
            {
                r.type: {
                    "limit": r.limit,
                    "strength": r.strength,
                    "rank": r.rank,
                    "blocked_values": r.blocked_values,
                    "blocked_patterns": r.blocked_patterns,
                    "trusted": r.trusted,
                }
                for r in rules
            }
        )
        in_force = await set_rules(
            deps.stores,
            deps.limits.identity,
            changes,
            agent=info.context.principal.agent,
            now=info.context.deps.clock(),
        )
        return IdentityRule.all_of(in_force, await blocked_counts(deps.stores))
