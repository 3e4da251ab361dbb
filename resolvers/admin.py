"""API keys, consent and data rights: the operations that guard people's data."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import strawberry
from strawberry.scalars import JSON

from cdp.errors import BadUserInput
from cdp.privacy.access import Scope
from cdp.privacy.consent_records import set_consent
from cdp.privacy.data_rights import erase_person, export_person
from cdp.privacy.keys import create_key, list_keys, revoke_key
from cdp.profile.find import page_of_persons
from resolvers.context import Info
from resolvers.types.enums import Channel
from resolvers.types.person import Person, PersonConnection, person_page

strawberry.enum(Scope, description="What an API key may do; ADMIN holds every other scope.")


@strawberry.type(description="A key just created. `key` is shown only now: store it safely.")
class NewApiKey:
    id: strawberry.ID
    key: str


@strawberry.type
class ApiKey:
    id: strawberry.ID
    name: str
    scopes: list[Scope]
    created_at: datetime
    revoked_at: datetime | None

    @classmethod
    def from_document(cls, doc: dict[str, Any]) -> ApiKey:
        return cls(
            id=strawberry.ID(doc["_id"]),
            name=doc["name"],
            scopes=[Scope(s) for s in doc["scopes"]],
            created_at=doc["created_at"],
            revoked_at=doc.get("revoked_at"),
        )


@strawberry.type(description="Proof of an erasure: no personal data, only the id, reason and time.")
class Erasure:
    person_id: strawberry.ID
    reason: str
    erased_at: datetime | None
    agent: str | None = strawberry.field(description="The API key that asked: its name and id.")


@strawberry.type(description="The key making this request, and what it may do.")
class Viewer:
    key_id: strawberry.ID
    name: str
    scopes: list[Scope] = strawberry.field(description="ADMIN may do everything.")


@strawberry.type
class AdminQuery:
    @strawberry.field(
        description="The calling key's name and scopes, so a screen shows only what it may "
        "do (any key may ask)."
    )
    async def viewer(self, info: Info) -> Viewer:
        caller = info.context.principal
        scopes = sorted(caller.scopes, key=lambda scope: scope.value)
        return Viewer(key_id=strawberry.ID(caller.key_id), name=caller.name, scopes=scopes)

    @strawberry.field(description="Every API key (never the keys themselves).")
    async def api_keys(self, info: Info) -> list[ApiKey]:
        return [ApiKey.from_document(d) for d in await list_keys(info.context.deps.stores)]

    @strawberry.field(description="Everything held about a person, as one JSON document.")
    async def export_person(self, info: Info, id: strawberry.ID) -> JSON:
        return JSON(await export_person(info.context.deps.stores, str(id)))

    @strawberry.field(description="Persons, newest first.")
    async def persons(
        self, info: Info, first: int = 50, after: str | None = None
    ) -> PersonConnection:
        profiles, has_next = await page_of_persons(info.context.deps.stores, first, after)
        return person_page(profiles, has_next)


@strawberry.type
class AdminMutation:
    @strawberry.mutation(description="Create an API key with the given scopes.")
    async def create_api_key(self, info: Info, name: str, scopes: list[Scope]) -> NewApiKey:
        if not scopes:
            raise BadUserInput("scopes: name at least one scope")
        made = await create_key(
            info.context.deps.stores, name, frozenset(scopes), info.context.deps.clock()
        )
        return NewApiKey(id=strawberry.ID(made.id), key=made.key)

    @strawberry.mutation(description="Revoke a key; requests with it fail from now on.")
    async def revoke_api_key(self, info: Info, id: strawberry.ID) -> bool:
        await revoke_key(info.context.deps.stores, str(id), info.context.deps.clock())
        if info.context.deps.keys is not None:
            info.context.deps.keys.forget()  # refused from the next request on
        return True

    @strawberry.mutation(
        description="Record a consent decision for a purpose, optionally per channel."
    )
    async def set_consent(
        self,
        info: Info,
        person_id: strawberry.ID,
        purpose: str,
        granted: bool,
        source: str,
        channel: Channel | None = None,
    ) -> Person:
        stores = info.context.deps.stores
        person = await set_consent(
            stores,
            str(person_id),
            purpose,
            channel,
            granted,
            source,
            info.context.deps.clock(),
            agent=info.context.principal.agent,
        )
        return await Person.written(info, person)

    @strawberry.mutation(
        description="Erase a person and everything about them; a tombstone without personal "
        "data remains as proof. An identifier seen again later starts a new person."
    )
    async def erase_person(self, info: Info, id: strawberry.ID, reason: str) -> Erasure:
        doc = await erase_person(
            info.context.deps.stores,
            str(id),
            reason,
            info.context.deps.clock(),
            info.context.principal.agent,
        )
        return Erasure(
            person_id=strawberry.ID(doc["_id"]),
            reason=doc["reason"],
            erased_at=doc.get("erased_at"),
            agent=doc.get("agent"),
        )
