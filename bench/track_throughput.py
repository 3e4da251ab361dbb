"""Events per second through ``track`` (GraphQL, batches of 500) against raw ``insert_many``.

Both run in one process against one embedded server, on the same events: first through
the ``Track`` operation of ``schema/operations`` (GraphQL parsing and validation,
event validation, identifier normalisation, stitching, merges, links, traits), then the
very documents ``track`` stored, inserted again with ``insert_many`` into a fresh
collection. The ratio is the price of everything ``track`` does beyond storing.

Run: ``make bench`` (or ``python -m bench.track_throughput --events 20000``).
"""

from __future__ import annotations

import argparse
import asyncio
import platform
import random
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from tqdm import tqdm

from cdp.access import Principal, Scope
from cdp.deps import Deps
from cdp.events import EventRules
from cdp.ingest import IngestLimits
from cdp.store import Stores
from cdp.store.database import connect, ensure_indexes, ping
from cdp.store.embedded import EmbeddedServer
from resolvers import Context, schema

TRACK = (
    Path(__file__).resolve().parents[1] / "schema" / "operations" / "Track.graphql"
).read_text()
WRITER = Principal("bench", "bench", frozenset({Scope.EVENTS_WRITE}))
CHANNELS = ["WEB", "MOBILE_APP", "EMAIL", "PHONE", "FACEBOOK", "WHATSAPP", "STORE"]


def synthetic_events(count: int, people: int, seed: int = 7) -> list[dict[str, Any]]:
    """Events of ``people`` customers, each with an email, a cookie and sometimes a phone
    or Facebook id; events carry one to three of them, so profiles meet and merge."""
    rng = random.Random(seed)
    start = datetime(2026, 1, 1, tzinfo=UTC)
    events = []
    for number in range(count):
        person = rng.randrange(people)
        pool = [
            {"type": "email", "value": f"Customer.{person}@Example.com"},
            {"type": "cookie_id", "value": f"ck-{person:06d}"},
            {"type": "facebook", "value": f"1015800{person:07d}"},
            {"type": "phone", "value": f"+44 7911 {person % 1_000_000:06d}"},
        ]
        carried = rng.sample(pool, rng.choice([1, 1, 2, 2, 3]))
        events.append(
            {
                "messageId": f"bench-{number}",
                "type": rng.choice(["page_view", "product_view", "email_open", "purchase"]),
                "channel": rng.choice(CHANNELS),
                "identifiers": carried,
                "timestamp": (start + timedelta(seconds=37 * number)).isoformat(),
                "properties": {"url": f"/p/{rng.randrange(500)}", "value": rng.randrange(1, 300)},
            }
        )
    return events


async def run(count: int, people: int, batch: int) -> dict[str, float]:
    server = EmbeddedServer(None)
    uri = server.start()
    client = connect(uri)
    try:
        tracked_db, raw_db = client["bench_track"], client["bench_raw"]
        await ensure_indexes(tracked_db)
        await ensure_indexes(raw_db)
        limits = IngestLimits(EventRules("GB", 64 * 1024), max_batch_size=1000)
        deps = Deps(Stores.on(tracked_db), limits, lambda: ping(tracked_db))
        events = synthetic_events(count, people)
        batches = [events[i : i + batch] for i in range(0, count, batch)]

        started = time.perf_counter()
        for chunk in tqdm(batches, desc="track (GraphQL)", unit="batch"):
            result = await schema.execute(
                TRACK, {"events": chunk}, context_value=Context(deps, WRITER)
            )
            assert not result.errors, result.errors
            assert result.data is not None
            assert result.data["track"]["accepted"] == len(chunk)
        track_seconds = time.perf_counter() - started

        stored = await tracked_db["events"].find().sort("_id", 1).to_list()
        documents = [stored[i : i + batch] for i in range(0, len(stored), batch)]
        started = time.perf_counter()
        for chunk in tqdm(documents, desc="insert_many", unit="batch"):
            await raw_db["events"].insert_many(chunk, ordered=False)
        raw_seconds = time.perf_counter() - started

        persons = await tracked_db["persons"].count_documents({"merged_into": None})
        merges = await tracked_db["merges"].count_documents({})
    finally:
        await client.close()
        server.stop()
    return {
        "events": count,
        "persons": persons,
        "merges": merges,
        "track_per_second": count / track_seconds,
        "raw_per_second": len(stored) / raw_seconds,
        "ratio": (len(stored) / raw_seconds) / (count / track_seconds),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=20_000)
    parser.add_argument("--people", type=int, default=5_000)
    parser.add_argument("--batch", type=int, default=500)
    args = parser.parse_args()
    figures = asyncio.run(run(args.events, args.people, args.batch))
    machine = (
        f"{platform.machine()}, {platform.python_implementation()} {platform.python_version()}"
    )
    print(
        f"\n| {datetime.now(UTC):%Y-%m-%d} | {machine} | {figures['events']:,} events, "
        f"{args.batch} per batch, {figures['persons']:,} persons, {figures['merges']:,} merges | "
        f"{figures['track_per_second']:,.0f}/s | {figures['raw_per_second']:,.0f}/s | "
        f"{figures['ratio']:.1f}x |"
    )


if __name__ == "__main__":
    main()
