"""One customer read over HTTP as a support screen asks for it, against the raw driver.

A base of 10,000 customers written straight into the collections (``bench/base.py``),
plus 200 customers with 60 events each sent through ``track`` over HTTP (so they have a
full timeline page), then one recompute so every profile has metrics and segments.
Measured: ``personByIdentifier`` with identifiers, traits, metrics, segments and a
timeline page of 50 events, over HTTP from this process, for random rich customers;
side by side, the raw driver reading the same documents (the identifier, the person,
the 50 newest events). Percentiles of 500 reads each, interleaved.

Run: ``python -m bench.read_latency``.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import time
from datetime import timedelta
from typing import Any

from tqdm import tqdm

from bench.base import NOW, seed_base
from bench.service import graphql, machine, operation, percentile, serving, settled, today

READ = """
query Read($type: String!, $value: String!) {
  personByIdentifier(type: $type, value: $value) {
    id traits mergedFrom createdAt updatedAt
    identifiers { type value firstSeen lastSeen }
    metrics {
      computedAt
      purchases { orders revenue averageOrderValue lastOrderAt daysSinceLastOrder }
      engagement { emailsSent openRate mostActiveHour preferredChannel }
      rfm { code segment }
      interests { topic weight }
      technographic { devices channels mobileShare }
      shopping { cartAbandoned wishlist }
    }
    segments { enteredAt segment { id name } }
    timeline(first: 50) {
      totalCount
      pageInfo { hasNextPage endCursor }
      edges {
        cursor
        node { id type channel timestamp receivedAt properties identifiers { type value } }
      }
    }
  }
}
"""
CHANNELS = ["WEB", "MOBILE_APP", "EMAIL", "STORE", "PHONE"]


def rich_events(customer: int, count: int, rng: random.Random) -> list[dict[str, Any]]:
    events = []
    for k in range(count):
        kind = rng.choice(["page_view", "product_view", "email_open", "purchase", "add_to_cart"])
        properties: dict[str, Any] = {"sku": f"sku-{rng.randrange(300)}", "category": "tents"}
        if kind == "purchase":
            properties = {"orderId": f"r{customer}-{k}", "total": rng.randrange(10, 300)}
        events.append(
            {
                "messageId": f"rich-{customer}-{k}",
                "type": kind,
                "channel": rng.choice(CHANNELS),
                "identifiers": [{"type": "email", "value": f"rich{customer}@example.com"}],
                "timestamp": (NOW - timedelta(days=rng.randrange(300), minutes=k)).isoformat(),
                "properties": properties,
                "traits": {"firstName": f"Rich{customer}"} if k == 0 else None,
            }
        )
    return [{key: v for key, v in e.items() if v is not None} for e in events]


async def run(base: int, rich: int, reads: int) -> dict[str, Any]:
    rng = random.Random(5)
    async with serving() as running:
        await seed_base(running.db, base)
        events = [e for c in range(rich) for e in rich_events(c, 60, rng)]
        track = operation("Track")
        for start in tqdm(range(0, len(events), 500), desc="rich customers over HTTP"):
            await graphql(running.http, track, events=events[start : start + 500])
        await graphql(running.http, "mutation { recomputeSegments { persons } }")
        await settled(running.db)  # the seeding's oplog pruned: see its docstring

        db = running.db
        service_ms: list[float] = []
        raw_ms: list[float] = []
        for _ in tqdm(range(reads), desc="reads"):
            customer = rng.randrange(rich)
            email = f"rich{customer}@example.com"
            started = time.perf_counter()
            data = await graphql(running.http, READ, type="email", value=email)
            service_ms.append((time.perf_counter() - started) * 1000)
            assert len(data["personByIdentifier"]["timeline"]["edges"]) == 50

            started = time.perf_counter()
            owner = await db["identifiers"].find_one({"_id": f"email:{email}"})
            assert owner is not None
            person = await db["persons"].find_one({"_id": owner["person_id"]})
            assert person is not None
            page = (
                await db["events"]
                .find({"person_id": person["_id"]})
                .sort([("timestamp", -1), ("_id", -1)])
                .limit(50)
                .to_list()
            )
            raw_ms.append((time.perf_counter() - started) * 1000)
            assert len(page) == 50
        engine = running.engine
    return {
        "engine": engine,
        "service": (percentile(service_ms, 0.5), percentile(service_ms, 0.95)),
        "raw": (percentile(raw_ms, 0.5), percentile(raw_ms, 0.95)),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--base", type=int, default=10_000)
    parser.add_argument("--rich", type=int, default=200)
    parser.add_argument("--reads", type=int, default=500)
    args = parser.parse_args()
    figures = asyncio.run(run(args.base, args.rich, args.reads))
    (s50, s95), (r50, r95) = figures["service"], figures["raw"]
    print(
        f"\n| {today()} | {machine(figures['engine'])} | {args.base + args.rich:,} persons, "
        f"{args.reads} reads of a customer with 60 events | {s50:.1f} ms | {s95:.1f} ms "
        f"| {r50:.1f} ms | {r95:.1f} ms | {s95 / r95:.1f}x |"
    )


if __name__ == "__main__":
    main()
