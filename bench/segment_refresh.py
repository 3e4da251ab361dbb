"""The segment of one: what one event's metrics-and-segments update costs, at 1,000 and at
100,000 persons. The done-when of the segments issue: the cost must follow one person's
history, not the size of the base.

For each base size: seed the base, define two user segments (one with an event count,
one on a trait), recompute once in bulk so every profile has metrics and memberships,
then send single events through ``track`` for persons picked at random and time (a) the
whole ``track`` call and (b) ``refresh_persons`` alone for one person. Medians of 200.

Run: ``python -m bench.segment_refresh`` (``--sizes 1000 100000``).
"""

from __future__ import annotations

import argparse
import asyncio
import platform
import random
import statistics
import time

from bench.base import NOW, define_user_segments, seed_base
from cdp.events import EventRules
from cdp.ingest import IngestLimits, track
from cdp.segments.recompute import recompute_all
from cdp.segments.refresh import refresh_persons
from cdp.store import Stores
from cdp.store.database import connect, ensure_indexes
from cdp.store.embedded import EmbeddedServer

SAMPLES = 200


async def measure(uri: str, persons: int) -> dict[str, float]:
    client = connect(uri)
    db = client[f"bench_refresh_{persons}"]
    try:
        await client.drop_database(db.name)
        await ensure_indexes(db)
        ids = await seed_base(db, persons)
        stores = Stores.on(db)
        await define_user_segments(stores)
        await recompute_all(stores, NOW)
        limits = IngestLimits(EventRules("GB", 64 * 1024), max_batch_size=1000)
        rng = random.Random(5)
        whole, refresh_only = [], []
        for n in range(SAMPLES):
            number = rng.randrange(persons)
            event = {
                "messageId": f"bench-{n}",
                "type": "product_view",
                "channel": "WEB",
                "identifiers": [{"type": "email", "value": f"c{number}@example.com"}],
                "timestamp": NOW.isoformat(),
                "properties": {"sku": "tents-3", "category": "tents"},
            }
            started = time.perf_counter()
            await track(stores, [event], limits, now=NOW)
            whole.append(time.perf_counter() - started)
            started = time.perf_counter()
            await refresh_persons(stores, [ids[number]], NOW)
            refresh_only.append(time.perf_counter() - started)
        return {
            "track_ms": statistics.median(whole) * 1000,
            "refresh_ms": statistics.median(refresh_only) * 1000,
        }
    finally:
        await client.drop_database(db.name)
        await client.close()


async def main(sizes: list[int]) -> None:
    server = EmbeddedServer(None)
    uri = server.start()
    try:
        rows = [(size, await measure(uri, size)) for size in sizes]
    finally:
        server.stop()
    print("\n| date | machine | persons | one `track` call (median) | refresh alone (median) |")
    print("| --- | --- | --- | --- | --- |")
    for size, row in rows:
        print(
            f"| {time.strftime('%Y-%m-%d')} | {platform.machine()}, CPython "
            f"{platform.python_version()} | {size:,} | {row['track_ms']:.1f} ms "
            f"| {row['refresh_ms']:.1f} ms |"
        )


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[1_000, 100_000])
    asyncio.run(main(parser.parse_args().sizes))
