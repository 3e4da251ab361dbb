"""API keys against the real server: only hashes are stored; revoked keys stop working."""

import asyncio
import json
from datetime import UTC, datetime

from pymongo.asynchronous.database import AsyncDatabase

from cdp.privacy.access import Scope
from cdp.privacy.keys import (
    KeyCache,
    authenticate,
    create_key,
    ensure_bootstrap_key,
    first_admin_key,
    revoke_key,
)
from cdp.store import Stores
from cdp.store.database import Document

NOW = datetime(2026, 3, 1, tzinfo=UTC)


async def test_a_created_key_authenticates_until_revoked_and_is_never_stored(
    stores: Stores, db: AsyncDatabase[Document]
) -> None:
    made = await create_key(stores, "web frontend", frozenset({Scope.PROFILES_READ}), NOW)
    principal = await authenticate(stores, made.key)
    assert principal is not None
    assert principal.scopes == {Scope.PROFILES_READ}
    assert principal.name == "web frontend"
    stored = json.dumps(await db["api_keys"].find().to_list(), default=str)
    assert made.key not in stored
    assert await authenticate(stores, made.key + "x") is None
    assert await authenticate(stores, None) is None
    await revoke_key(stores, made.id, NOW)
    assert await authenticate(stores, made.key) is None


async def test_the_first_admin_key_is_made_only_on_an_empty_database(stores: Stores) -> None:
    first = await first_admin_key(stores, NOW)
    assert first is not None
    admin = await authenticate(stores, first.key)
    assert admin is not None
    assert admin.scopes == {Scope.ADMIN}
    assert await first_admin_key(stores, NOW) is None


async def test_the_bootstrap_key_is_an_admin_key_and_setting_it_twice_is_harmless(
    stores: Stores,
) -> None:
    await ensure_bootstrap_key(stores, "cdp_bootstrap", NOW)
    await ensure_bootstrap_key(stores, "cdp_bootstrap", NOW)
    admin = await authenticate(stores, "cdp_bootstrap")
    assert admin is not None
    assert admin.scopes == {Scope.ADMIN}


async def test_a_key_revoked_elsewhere_stops_working_within_the_cache_time(
    stores: Stores,
) -> None:
    made = await create_key(stores, "crm sync", frozenset({Scope.EVENTS_WRITE}), NOW)
    cache = KeyCache(stores, ttl_seconds=0.3)
    assert await cache.principal(made.key) is not None
    await revoke_key(stores, made.id, NOW)  # by another instance: this cache is not told
    assert await cache.principal(made.key) is not None  # remembered for a moment
    await asyncio.sleep(0.35)
    assert await cache.principal(made.key) is None


async def test_a_revoke_through_this_instance_takes_effect_at_once(stores: Stores) -> None:
    made = await create_key(stores, "crm sync", frozenset({Scope.EVENTS_WRITE}), NOW)
    cache = KeyCache(stores, ttl_seconds=60)
    assert await cache.principal(made.key) is not None
    await revoke_key(stores, made.id, NOW)
    cache.forget()  # what the revokeApiKey mutation does
    assert await cache.principal(made.key) is None
