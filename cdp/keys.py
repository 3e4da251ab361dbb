"""Managing API keys and recognising the key behind a request."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

from cdp.access import Principal, Scope, key_hash, new_key
from cdp.errors import BadUserInput, NotFound
from cdp.store import Stores
from cdp.store.database import Document

BOOTSTRAP_KEY_ID = "bootstrap-admin"


@dataclass(frozen=True, slots=True)
class NewKey:
    """A key just made: ``key`` is shown this once and never stored."""

    id: str
    key: str


async def create_key(stores: Stores, name: str, scopes: frozenset[Scope], now: datetime) -> NewKey:
    label = name.strip()
    if not label or len(label) > 100:
        raise BadUserInput("name: give the key a name of 1 to 100 characters")
    key, key_id = new_key(), uuid.uuid4().hex[:16]
    await stores.keys.create(key_id, label, key_hash(key), sorted(s.value for s in scopes), now)
    return NewKey(key_id, key)


async def revoke_key(stores: Stores, key_id: str, now: datetime) -> None:
    if not await stores.keys.revoke(key_id, now):
        raise NotFound(f"no active key has the id {key_id}")


async def list_keys(stores: Stores) -> list[Document]:
    return await stores.keys.all()


async def authenticate(stores: Stores, key: str | None) -> Principal | None:
    """The principal behind a key, or None for no key, an unknown or a revoked one."""
    if not key:
        return None
    doc = await stores.keys.active(key_hash(key))
    if doc is None:
        return None
    return Principal(doc["_id"], doc["name"], frozenset(Scope(s) for s in doc["scopes"]))


async def ensure_bootstrap_key(stores: Stores, key: str, now: datetime) -> None:
    """Make ``CDP_BOOTSTRAP_ADMIN_KEY`` an admin key (first set-up, tests)."""
    await stores.keys.ensure(BOOTSTRAP_KEY_ID, "bootstrap admin", key_hash(key), ["admin"], now)


async def first_admin_key(stores: Stores, now: datetime) -> NewKey | None:
    """On a database with no keys at all, create a local admin key to get started."""
    if await stores.keys.any():
        return None
    return await create_key(stores, "local admin", frozenset({Scope.ADMIN}), now)
