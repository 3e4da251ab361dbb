"""Stitching properties on the real server, over random histories from a small pool.

Each example runs in a database of its own. Without limits in reach, the persons must be
exactly the connected components of the identifier graph however the events arrive: one
by one, as one batch, or all at once concurrently. With weak identifiers and tight limits,
the invariants must hold and a replay must give the same persons.
"""

import asyncio
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pymongo.asynchronous.database import AsyncDatabase

from cdp import bootstrap
from cdp.events import EventRules
from cdp.ingest import IngestLimits, track
from cdp.records import EventStatus
from cdp.store import Stores
from cdp.store.database import Document
from identity import IdentityRules, Strength, TypeRule
from tests.oracles import components

RULES = EventRules(default_phone_region="GB", max_properties_bytes=64 * 1024)
UNLIMITED = IngestLimits(RULES, 1000, IdentityRules().without_limits())
TIGHT = IngestLimits(
    RULES,
    1000,
    IdentityRules().with_overrides(
        {"email": TypeRule(2, Strength.STRONG, 80), "device_id": TypeRule(1, Strength.WEAK, 20)}
    ),
)
EXAMPLES = settings(
    max_examples=20,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)

strong_pool = st.sampled_from(
    [
        *["email:a@x.io", "email:b@x.io", "email:c@x.io", "email:d@x.io", "facebook:100"],
        *["phone:+447911000001", "phone:+447911000002", "customer_id:C1"],
    ]
)
mixed_pool = st.sampled_from(
    [
        *["customer_id:C1", "customer_id:C2", "email:a@x.io", "email:b@x.io", "email:c@x.io"],
        *["device_id:d1", "device_id:d2", "cookie_id:k1", "cookie_id:k2"],
    ]
)


def histories(pool: st.SearchStrategy[str]) -> st.SearchStrategy[list[list[str]]]:
    return st.lists(st.lists(pool, min_size=1, max_size=3, unique=True), min_size=1, max_size=20)


@asynccontextmanager
async def fresh(uri: str) -> AsyncIterator[tuple[Stores, AsyncDatabase[Document]]]:
    async with bootstrap.database(uri, f"cdp_prop_{uuid.uuid4().hex[:12]}") as db:
        try:
            yield Stores.on(db), db
        finally:
            await db.client.drop_database(db.name)


def as_events(history: list[list[str]]) -> list[dict[str, Any]]:
    return [
        {
            "messageId": f"m{index}",
            "type": "seen",
            "channel": "WEB",
            "timestamp": f"2026-03-01T10:{index // 60:02d}:{index % 60:02d}Z",
            "identifiers": [
                dict(zip(("type", "value"), k.split(":", 1), strict=True)) for k in keys
            ],
        }
        for index, keys in enumerate(history)
    ]


async def persons(stores: Stores, db: AsyncDatabase[Document]) -> set[frozenset[str]]:
    """The partition of identifiers into live persons, as stored."""
    docs = await db["identifiers"].find().to_list()
    roots = await stores.persons.roots({d["person_id"] for d in docs})
    grouped: dict[str, set[str]] = {}
    for doc in docs:
        grouped.setdefault(roots[doc["person_id"]], set()).add(doc["_id"])
    return {frozenset(keys) for keys in grouped.values()}


@EXAMPLES
@given(history=histories(strong_pool), mode=st.sampled_from(["one by one", "batch", "concurrent"]))
async def test_without_limits_persons_are_the_components_however_events_arrive(
    mongodb_uri: str, history: list[list[str]], mode: str
) -> None:
    events = as_events(history)
    async with fresh(mongodb_uri) as (stores, db):
        if mode == "batch":
            await track(stores, events, UNLIMITED)
        elif mode == "one by one":
            for raw in events:
                await track(stores, [raw], UNLIMITED)
        else:
            await asyncio.gather(*(track(stores, [raw], UNLIMITED) for raw in events))
        assert await persons(stores, db) == components(history)


@EXAMPLES
@given(history=histories(mixed_pool), chunk=st.integers(min_value=1, max_value=20))
async def test_with_rules_in_play_invariants_hold_and_a_replay_gives_the_same_persons(
    mongodb_uri: str, history: list[list[str]], chunk: int
) -> None:
    events = as_events(history)
    outcomes = []
    async with fresh(mongodb_uri) as (stores, db):
        for start in range(0, len(events), chunk):
            outcomes += (await track(stores, events[start : start + chunk], TIGHT)).results
        assert all(r.status is EventStatus.ACCEPTED for r in outcomes)
        assert await db["events"].count_documents({}) == len(events)
        partition = await persons(stores, db)
        owned = [key for keys in partition for key in keys]
        assert sorted(owned) == sorted({key for keys in history for key in keys})  # one owner each
        for keys in partition:
            types = [key.split(":", 1)[0] for key in keys]
            for type_ in set(types):
                assert types.count(type_) <= TIGHT.identity.rule(type_).limit
    async with fresh(mongodb_uri) as (replay, replay_db):
        for start in range(0, len(events), chunk):
            await track(replay, events[start : start + chunk], TIGHT)
        assert await persons(replay, replay_db) == partition
