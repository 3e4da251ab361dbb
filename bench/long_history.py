"""The segment of one for customers with long histories: how a single event's cost grows
with the history of its person.

``bench/segment_refresh.py`` shows the cost does not follow the size of the base; this
shows whether it follows the person's history. Until the twelfth session each refresh
recomputed a person's metrics and segments from the whole history, so a heavy app
user's every event read and folded thousands of events again; a single event now adds
itself to the fold kept with the profile (``cdp/profile/carried.py``), after one read of
the whole history for the first. For each history length: ``cdp serve`` on a fresh
database, a base of 1,000 customers written straight into the collections
(``bench/base.py``), one of them given that many events, the two user segments of
``bench/segment_refresh.py`` and one bulk recompute; then single ``product_view`` events
for that customer through ``track`` over HTTP, a second apart in time as a live app
sends them (the first few left out as warm-up), and side by side the raw driver reading
the same customer's whole history, which a refresh without the fold must read. Medians
and 95th percentiles.

Run: ``python -m bench.long_history`` (``--lengths 10 1000 5000``).
"""

from __future__ import annotations

import argparse
import asyncio
import random
import time
from datetime import timedelta
from typing import Any

from bench.base import NOW, person_events, seed_base
from bench.segment_refresh import SEGMENTS, latency_cells, tent_view
from bench.service import graphql, machine, operation, percentile, serving, settled, today
from cdp.store.events import HISTORY_FIELDS

SAMPLES = 40
WARM_UP = 5
BASE = 1_000


def long_history(person_id: str, number: int, length: int) -> list[dict[str, Any]]:
    """``length`` events of the base's kinds (purchases, views, opens, carts) for one
    customer, over the base's 400 days."""
    rng = random.Random(number)
    events: list[dict[str, Any]] = []
    while len(events) < length:
        for event in person_events(person_id, number, rng):
            event["_id"] = f"long-{number}-{len(events)}"
            events.append(event)
    return events[:length]


async def measure(length: int) -> dict[str, Any]:
    async with serving() as running:
        persons = await seed_base(running.db, BASE)
        customer = 0  # bench/base.py's customer 0: c0@example.com
        await running.db["events"].insert_many(long_history(persons[customer], customer, length))
        await graphql(running.http, SEGMENTS)
        await graphql(running.http, "mutation { recomputeSegments(full: true) { persons } }")
        await settled(running.db)
        track = operation("Track")
        history = dict.fromkeys(HISTORY_FIELDS, 1)
        service: list[float] = []
        raw: list[float] = []
        for n in range(WARM_UP + SAMPLES):
            started = time.perf_counter()
            event = tent_view(f"long-bench-{n:03d}", customer, NOW + timedelta(seconds=n))
            result = await graphql(running.http, track, events=[event])
            took = time.perf_counter() - started
            assert result["track"]["accepted"] == 1
            started = time.perf_counter()
            found = (
                await running.db["events"].find({"person_id": persons[customer]}, history).to_list()
            )
            read = time.perf_counter() - started
            assert len(found) >= length
            if n >= WARM_UP:
                service.append(took)
                raw.append(read)
        engine = running.engine
    return {
        "engine": engine,
        "service": (percentile(service, 0.5), percentile(service, 0.95)),
        "raw": (percentile(raw, 0.5), percentile(raw, 0.95)),
    }


async def main(lengths: list[int]) -> None:
    rows = [(length, await measure(length)) for length in lengths]
    for length, row in rows:
        where = f"| {today()} | {machine(row['engine'])} | {length:,} events"
        print(f"{where} | {latency_cells(row)} |")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--lengths", type=int, nargs="+", default=[10, 1_000, 5_000])
    asyncio.run(main(parser.parse_args().lengths))
