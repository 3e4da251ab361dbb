"""Recomputing every metric and membership in bulk, and agreeing with the per-event path."""

import random
from datetime import UTC, datetime, timedelta
from typing import Any

from pymongo import monitoring
from pymongo.asynchronous.database import AsyncDatabase

from cdp.ingest import IngestLimits, track
from cdp.metrics.base import load_base_models
from cdp.metrics.clv import TimeUnit
from cdp.metrics.fitting import fit_clv_model
from cdp.metrics.rfm import score
from cdp.segments.recompute import recompute_all
from cdp.store import Stores
from cdp.store.database import Document, connect

NOW = datetime(2026, 6, 30, 12, tzinfo=UTC)


def customer_history(n: int, rng: random.Random) -> list[dict[str, Any]]:
    """Customer n: a few orders over a year on web or in store, some browsing."""
    who = [{"type": "email", "value": f"customer{n}@example.com"}]
    events = []
    for k in range(rng.randint(1, 6)):
        when = NOW - timedelta(days=rng.randint(1, 360), hours=rng.randint(0, 23))
        events.append(
            {
                "messageId": f"c{n}-o{k}",
                "type": "purchase",
                "channel": rng.choice(["WEB", "STORE", "MOBILE_APP"]),
                "identifiers": who,
                "timestamp": when.isoformat(),
                "properties": {"orderId": f"c{n}-o{k}", "total": round(rng.uniform(10, 300), 2)},
            }
        )
    events.append(
        {
            "messageId": f"c{n}-v",
            "type": "content_view",
            "channel": "WEB",
            "identifiers": who,
            "timestamp": (NOW - timedelta(days=2)).isoformat(),
            "properties": {"topic": rng.choice(["Running", "Yoga"])},
        }
    )
    return events


async def seed_base(stores: Stores, limits: IngestLimits, customers: int = 40) -> None:
    rng = random.Random(7)
    batch = [e for n in range(customers) for e in customer_history(n, rng)]
    await track(stores, batch, limits, now=NOW)


async def test_recompute_scores_every_customer_against_fresh_boundaries(
    stores: Stores, limits: IngestLimits, db: AsyncDatabase[Document]
) -> None:
    await seed_base(stores, limits)
    await fit_clv_model(stores, NOW, TimeUnit.DAYS, NOW)
    stages: set[str] = set()
    report = await recompute_all(stores, NOW, lambda stage, done, total: stages.add(stage))

    assert (report.persons, report.customers) == (40, 40)
    assert stages == {"metrics and segments", "rfm and clv tiers", "rescored segments"}
    models = await load_base_models(stores)
    assert models.rfm is not None
    assert models.clv_tiers is not None
    persons = await db["persons"].find({"merged_into": None}).to_list()
    for person in persons:
        m = person["metrics"]
        expected = score(m["days_since_last_order"], m["orders"], m["revenue"], models.rfm)
        assert (m["rfm_code"], m["rfm_segment"]) == (expected.code, expected.segment)
    tiers = [p["metrics"]["clv_tier"] for p in persons]
    assert tiers.count("high") == 8  # the top fifth of 40
    for person in persons:
        held = {d["segment_id"] async for d in db["memberships"].find({"person_id": person["_id"]})}
        segment = person["metrics"]["rfm_segment"].lower().replace("'", "").replace(" ", "_")
        assert f"rfm_{segment}" in held
        assert f"clv_{person['metrics']['clv_tier']}" in held
        assert held & {"interest:running", "interest:yoga"}


async def test_the_per_event_path_agrees_with_the_bulk_one(
    stores: Stores, limits: IngestLimits, db: AsyncDatabase[Document]
) -> None:
    await seed_base(stores, limits, customers=25)
    await recompute_all(stores, NOW)
    before = await db["memberships"].find({}, {"entered_at": 0, "recorded": 0}).to_list()
    changes = await db["events"].count_documents(
        {"type": {"$in": ["segment_entered", "segment_left"]}}
    )

    rng = random.Random(7)
    everyone = [e for n in range(25) for e in customer_history(n, rng)]
    await track(stores, everyone, limits, now=NOW)  # all duplicates: every person refreshed

    after = await db["memberships"].find({}, {"entered_at": 0, "recorded": 0}).to_list()
    assert sorted(d["_id"] for d in after) == sorted(d["_id"] for d in before)
    assert (
        await db["events"].count_documents({"type": {"$in": ["segment_entered", "segment_left"]}})
        == changes
    )


async def test_a_second_recompute_changes_nothing(
    stores: Stores, limits: IngestLimits, db: AsyncDatabase[Document]
) -> None:
    await seed_base(stores, limits, customers=10)
    first = await recompute_all(stores, NOW)
    second = await recompute_all(stores, NOW)
    assert first.entered > 0
    assert (second.entered, second.left) == (0, 0)


async def lists_and_memberships(
    db: AsyncDatabase[Document],
) -> tuple[dict[str, list[str]], dict[str, list[str]]]:
    """Each live person's list of segments on the profile, and from the memberships."""
    lists = {
        p["_id"]: sorted(p.get("segment_ids", []))
        async for p in db["persons"].find({"merged_into": None})
    }
    held: dict[str, list[str]] = {person: [] for person in lists}
    async for doc in db["memberships"].find({}).sort("segment_id", 1):
        held[doc["person_id"]].append(doc["segment_id"])
    return lists, held


async def test_the_segment_list_on_each_profile_agrees_with_the_memberships_on_both_paths(
    stores: Stores, limits: IngestLimits, db: AsyncDatabase[Document]
) -> None:
    await seed_base(stores, limits, customers=25)
    lists, held = await lists_and_memberships(db)
    assert lists == held  # the per-event path
    await fit_clv_model(stores, NOW, TimeUnit.DAYS, NOW)
    report = await recompute_all(stores, NOW)
    assert report.entered > 0  # CLV tiers appeared: the bulk path moved people
    lists, held = await lists_and_memberships(db)
    assert lists == held
    assert sum(len(ids) for ids in lists.values()) > 25


class Writes(monitoring.CommandListener):
    """Counts the write commands sent on the connection it listens to."""

    def __init__(self) -> None:
        self.names: list[str] = []

    def started(self, event: monitoring.CommandStartedEvent) -> None:
        if event.command_name in {"insert", "update", "delete"}:
            self.names.append(f"{event.command_name} {event.command.get(event.command_name)}")

    def succeeded(self, event: monitoring.CommandSucceededEvent) -> None:
        pass

    def failed(self, event: monitoring.CommandFailedEvent) -> None:
        pass


async def test_a_rerun_the_same_day_computes_only_what_changed_and_writes_almost_nothing(
    stores: Stores, limits: IngestLimits, mongodb_uri: str, db: AsyncDatabase[Document]
) -> None:
    await seed_base(stores, limits, customers=30)
    first = await recompute_all(stores, NOW, full=True)
    assert first.recomputed == 30

    writes = Writes()
    client = connect(mongodb_uri, [writes])
    try:
        watched = Stores.on(client[db.name])
        again = await recompute_all(watched, NOW + timedelta(hours=1))
        assert (again.recomputed, again.entered, again.left) == (0, 0, 0)
        assert writes.names == ["update models"]  # the refitted RFM boundaries, nothing else

        await track(stores, customer_history(3, random.Random(1))[:1], limits, now=NOW)
        writes.names.clear()
        later = await recompute_all(watched, NOW + timedelta(hours=2))
        assert later.recomputed == 0  # refreshed as its event landed: current already
        await stores.persons.mark_pending([first_person := await _person(db, 4)], NOW)
        later = await recompute_all(watched, NOW + timedelta(hours=3))
        assert later.recomputed == 1  # a refresh that never happened is done here
        pending = await db["persons"].find_one({"_id": first_person})
        assert pending is not None
        assert "pending_since" not in pending

        tomorrow = await recompute_all(watched, NOW + timedelta(days=1))
        assert tomorrow.recomputed == 30  # windows and decays moved on overnight
    finally:
        await client.close()


async def _person(db: AsyncDatabase[Document], customer: int) -> str:
    owner = await db["identifiers"].find_one({"_id": f"email:customer{customer}@example.com"})
    assert owner is not None
    person: str = owner["person_id"]
    return person
