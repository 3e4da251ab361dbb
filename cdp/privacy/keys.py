"""Managing API keys and recognising the key behind a request."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

from cachetools import TTLCache

from cdp.errors import BadUserInput, NotFound
from cdp.privacy.access import Principal, Scope, key_hash, new_key
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


class KeyCache:
    """Who is behind a key, remembered for a second.

    Looking the key up in the database on every request was a twentieth of a cheap
    read's time. A key revoked through this instance stops working at once (the revoke
    clears the cache); one revoked through another instance within ``ttl_seconds``. An
    unknown key is remembered too, so a flood of bad keys costs one read a second each.
    """

    def __init__(self, stores: Stores, ttl_seconds: float = 1.0, size: int = 10_000) -> None:
        self._stores = stores
        self._known: TTLCache[str, Principal | None] = TTLCache(size, ttl_seconds)

    async def principal(self, key: str | None) -> Principal | None:
        if not key:
            return None
        hashed = key_hash(key)
        if hashed in self._known:
            return self._known[hashed]
        found = await authenticate(self._stores, key)
        self._known[hashed] = found
        return found

    def forget(self) -> None:
        self._known.clear()


async def ensure_bootstrap_key(stores: Stores, key: str, now: datetime) -> None:
    """Make ``CDP_BOOTSTRAP_ADMIN_KEY`` an admin key (first set-up, tests)."""
    await stores.keys.ensure(BOOTSTRAP_KEY_ID, "bootstrap admin", key_hash(key), ["admin"], now)


async def first_admin_key(stores: Stores, now: datetime) -> NewKey | None:
    """On a database with no keys at all, create a local admin key to get started."""
    if await stores.keys.any():
        return None
    return await create_key(stores, "local admin", frozenset({Scope.ADMIN}), now)
