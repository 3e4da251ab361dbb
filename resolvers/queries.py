"""Queries that read profiles."""

from __future__ import annotations

import strawberry

from cdp.profile.find import SEARCH_LIMIT, read_by_identifier, search_by_identifier
from resolvers.context import Info
from resolvers.types.person import Person


@strawberry.type
class ProfileQuery:
    @strawberry.field(description="A person by id; an id absorbed by a merge finds the survivor.")
    async def person(self, info: Info, id: strawberry.ID) -> Person | None:
        return await Person.find(info, str(id))

    @strawberry.field(
        description="The person owning an identifier; the value is normalised as on the way in "
        "(emails lower-cased, phones to E.164)."
    )
    async def person_by_identifier(self, info: Info, type: str, value: str) -> Person | None:
        deps = info.context.deps
        found = await read_by_identifier(deps.stores, type, value, deps.default_phone_region)
        if found is None:
            return None
        # What was read with the person answers their identifiers and segments fields.
        loaders = info.context.loaders
        if found.identifiers is not None:
            loaders.identifiers.prime(tuple(found.profile.family), found.identifiers)
        if found.memberships is not None:
            loaders.memberships.prime(found.profile.id, found.memberships)
        return Person(profile=found.profile)

    @strawberry.field(
        description="Persons owning the text read as any identifier type: an email, a phone "
        "written in any format, a social id or handle, a device, cookie or customer number. "
        f"Most recently updated first, at most {SEARCH_LIMIT}."
    )
    async def find_persons(self, info: Info, query: str) -> list[Person]:
        deps = info.context.deps
        types = deps.limits.identity.types
        found = await search_by_identifier(deps.stores, query, types, deps.default_phone_region)
        return [Person(profile=profile) for profile in found]
