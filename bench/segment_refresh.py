"""The segment of one: one event sent over HTTP and its person's metrics and segments
brought up to date before the call answers, at 1,000 and at 100,000 persons. The cost
must follow one person's history, not the size of the base.

For each base size: ``cdp serve`` on a fresh database, the base written straight into
the collections (``bench/base.py``), two user segments defined over GraphQL (one with an
event count, one on a trait), one bulk recompute so every profile has metrics and
memberships; then 200 single ``product_view`` events through ``track`` over HTTP for
persons picked at random (stitching, storing, the person's metrics recomputed and every
segment re-evaluated, with timeline entries, before the answer), and side by side the
raw driver inserting the same event document. Medians and 95th percentiles.

Run: ``python -m bench.segment_refresh`` (``--sizes 1000 100000``).
"""

from __future__ import annotations

import argparse
import asyncio
import random
import time
from datetime import datetime, timedelta
from typing import Any

from bench.base import NOW, seed_base
from bench.service import graphql, machine, operation, percentile, serving, settled, today

SAMPLES = 200
SEGMENTS = """mutation {
  browsers: createSegment(input: {name: "Tent browsers", rule: {events: {type: "product_view",
    where: [{path: "category", value: "tents"}]}}}) { id }
  french: createSegment(input: {name: "French", rule: {trait: {name: "country", op: EQ,
    value: "FR"}}}) { id }
}"""


def tent_view(message_id: str, customer: int, at: datetime) -> dict[str, Any]:
    """A ``product_view`` of a tent by one of ``bench/base.py``'s customers, at ``at``."""
    return {
        "messageId": message_id,
        "type": "product_view",
        "channel": "WEB",
        "identifiers": [{"type": "email", "value": f"c{customer}@example.com"}],
        "timestamp": at.isoformat(),
        "properties": {"sku": "tents-3", "category": "tents"},
    }


async def measure(persons: int) -> dict[str, Any]:
    async with serving() as running:
        await seed_base(running.db, persons)
        await graphql(running.http, SEGMENTS)
        await graphql(running.http, "mutation { recomputeSegments(full: true) { persons } }")
        await settled(running.db)  # the seeding's oplog pruned: see its docstring
        track = operation("Track")
        rng = random.Random(5)
        service: list[float] = []
        raw: list[float] = []
        for n in range(SAMPLES):
            # a second apart, after the seeded history: in the order they happen, as a
            # live customer's arrive (one timestamp for all put a later message id
            # before an earlier one: a late event, refolding its person's history)
            event = tent_view(f"bench-{n}", rng.randrange(persons), NOW + timedelta(seconds=n))
            started = time.perf_counter()
            result = await graphql(running.http, track, events=[event])
            service.append(time.perf_counter() - started)
            assert result["track"]["accepted"] == 1

            stored = await running.db["events"].find_one({"_id": f"bench-{n}"})
            assert stored is not None
            stored["_id"] = f"raw-{n}"
            started = time.perf_counter()
            await running.db["raw_events"].insert_one(stored)
            raw.append(time.perf_counter() - started)
        pending = await running.db["persons"].count_documents({"pending_since": {"$ne": None}})
        engine = running.engine
    return {
        "engine": engine,
        "service": (percentile(service, 0.5), percentile(service, 0.95)),
        "raw": (percentile(raw, 0.5), percentile(raw, 0.95)),
        "pending": pending,
    }


def latency_cells(row: dict[str, Any]) -> str:
    """The table cells of a run: service p50 and p95, raw p50 and p95."""
    (s50, s95), (r50, r95) = row["service"], row["raw"]
    return f"{s50 * 1000:.1f} ms | {s95 * 1000:.1f} ms | {r50 * 1000:.1f} ms | {r95 * 1000:.1f} ms"


async def main(sizes: list[int]) -> None:
    rows = [(size, await measure(size)) for size in sizes]
    for size, row in rows:
        print(
            f"| {today()} | {machine(row['engine'])} | {size:,} | {latency_cells(row)} "
            f"| {row['pending']} |"
        )


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[1_000, 100_000])
    asyncio.run(main(parser.parse_args().sizes))
