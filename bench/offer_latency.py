"""How long one person's next-best-offers take, against one GraphQL round trip.

A catalogue of 2,000 products in 40 categories, 10,000 synthetic customers with a few
baskets each (bundles of related products, so rules exist), the co-purchase rules mined,
consent given to 1,200 customers picked at random. Then, as a freshly started instance
(empty catalogue cache): offers for 1,000 of them (the first 200 reported as the fresh
start), and for the other 200 the steady state: the offer computation alone for the
profile the GraphQL field already holds (``next_best_offers``) with the database
commands it sent, the whole ``NextBestOffers`` GraphQL operation, and the simplest
GraphQL round trip for the same person (``{ person(id) { id } }``), all in-process on
the embedded database. Medians.

Run: ``python -m bench.offer_latency``.
"""

from __future__ import annotations

import asyncio
import random
import statistics
import time
from collections import Counter
from datetime import UTC, datetime, timedelta
from typing import Any

from tqdm import tqdm

from bench.service import machine, today
from cdp import bootstrap
from cdp.deps import Deps
from cdp.events import EventRules
from cdp.ingest import IngestLimits, track
from cdp.offers.mining import rebuild_offer_models
from cdp.offers.next_best import next_best_offers
from cdp.offers.policy import OfferPolicy
from cdp.offers.products import upsert_products
from cdp.privacy.access import Principal, Scope
from cdp.privacy.consent_records import set_consent
from cdp.profile.find import find_person
from cdp.records import Channel
from cdp.store import Stores
from cdp.store.database import connect, ping
from cdp.store.embedded import EmbeddedServer
from resolvers import Context, schema
from tests.commands import Commands
from tests.resolvers.graphql import operation

NOW = datetime.now(UTC)
READER = Principal("bench", "bench", frozenset({Scope.PROFILES_READ, Scope.PII_READ}))
WARM_UP = 1000  # answers before measuring (the first 200 are reported as a fresh start)
MEASURED = 200
SIMPLE = "query P($id: ID!) { person(id: $id) { id } }"


def catalogue() -> list[dict[str, Any]]:
    return [
        {
            "sku": f"P{n:04d}",
            "name": f"Product {n}",
            "category": f"cat{n % 40}",
            "price": 5.0 + n % 200,
            "stock": n % 50,
        }
        for n in range(2000)
    ]


def orders(customers: int, rng: random.Random) -> list[dict[str, Any]]:
    events = []
    for c in range(customers):
        bundle = rng.randrange(200)
        for k in range(rng.randint(1, 4)):
            skus = {
                f"P{(bundle * 10 + rng.randrange(4)) % 2000:04d}" for _ in range(rng.randint(1, 3))
            }
            skus.add(f"P{rng.randrange(2000):04d}")
            events.append(
                {
                    "messageId": f"c{c}-o{k}",
                    "type": "purchase",
                    "channel": "WEB",
                    "identifiers": [{"type": "email", "value": f"c{c}@example.com"}],
                    "timestamp": (NOW - timedelta(days=rng.randrange(300))).isoformat(),
                    "properties": {
                        "total": 40.0,
                        "items": [{"sku": s, "category": f"cat{int(s[1:]) % 40}"} for s in skus],
                    },
                }
            )
    return events


async def main() -> None:
    server = EmbeddedServer(None)
    uri = server.start()
    try:
        async with bootstrap.database(uri, "bench_offers") as db:
            try:
                stores = Stores.on(db)
                limits = IngestLimits(EventRules("GB", 64 * 1024), max_batch_size=1000)
                policy = OfferPolicy(min_support_count=10, min_confidence=0.05, exploration_seed=1)
                deps = Deps(stores, limits, lambda: ping(db), policy)
                rng = random.Random(9)
                for start in range(0, 2000, 1000):
                    await upsert_products(stores, catalogue()[start : start + 1000], NOW)
                events = orders(10_000, rng)
                people: dict[str, str] = {}
                for start in tqdm(range(0, len(events), 1000), desc="tracking baskets"):
                    batch = events[start : start + 1000]
                    result = await track(stores, batch, limits)
                    for raw, answer in zip(batch, result.results, strict=True):
                        people[raw["identifiers"][0]["value"]] = answer.person_id or ""
                report = await rebuild_offer_models(
                    stores, policy.min_support_count, policy.min_confidence, NOW
                )
                sample = rng.sample(sorted(people.values()), WARM_UP + MEASURED)
                for person in sample:
                    await set_consent(
                        stores, person, "marketing", Channel.EMAIL, True, "bench", NOW
                    )
                # A fresh instance, as after a start: its catalogue cache is empty. The first
                # answers fill it; the last ones (other persons) are the steady state.
                listener = Commands()
                watched = connect(uri, event_listeners=[listener])
                fresh = Stores.on(watched["bench_offers"])
                deps = Deps(fresh, limits, lambda: ping(db), policy)
                profiles = [await find_person(fresh, person) for person in sample]
                cold, reads, flow, whole, simple = [], [], [], [], []
                targets: Counter[str] = Counter()
                query = operation("NextBestOffers")
                for number, profile in enumerate(profiles):
                    assert profile is not None
                    listener.names.clear()
                    listener.targets.clear()
                    started = time.perf_counter()
                    await next_best_offers(
                        fresh, profile, limit=3, channel=None, policy=policy, now=NOW
                    )
                    took = time.perf_counter() - started
                    if number < WARM_UP:
                        cold += [took] if number < MEASURED else []
                        continue
                    flow.append(took)
                    reads.append(len(listener.names))
                    targets.update(listener.targets)
                    started = time.perf_counter()
                    done = await schema.execute(
                        query,
                        variable_values={"id": profile.id},
                        context_value=Context(deps, READER),
                    )
                    whole.append(time.perf_counter() - started)
                    assert not done.errors, done.errors
                    started = time.perf_counter()
                    await schema.execute(
                        SIMPLE,
                        variable_values={"id": profile.id},
                        context_value=Context(deps, READER),
                    )
                    simple.append(time.perf_counter() - started)
                await watched.close()
            finally:
                await db.client.drop_database(db.name)
    finally:
        server.stop()

    def ms(values: list[float]) -> str:
        return f"{statistics.median(values) * 1000:.1f} ms"

    print(
        f"\n| {today()} | {machine(server.label)} | 2,000 products, {len(events):,} orders, "
        f"{report.rules:,} rules | {ms(cold)} | {ms(flow)} "
        f"({statistics.median(reads):.0f} reads, most {max(reads)}) | {ms(whole)} | "
        f"{ms(simple)} |"
    )
    print(f"reads in the {MEASURED} measured answers: {dict(targets.most_common())}")


if __name__ == "__main__":
    asyncio.run(main())
