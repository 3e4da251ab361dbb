"""The first start: how long after `cdp serve` starts on an empty database the demo
customers are there to look at (issue 18 asks for 1,000 persons well under a minute).

``cdp serve`` with ``CDP_DEMO=1`` on a fresh embedded server, as `make run` starts it: the
seconds until ``/healthz`` answers, and until the demo is loaded (the ``config`` document
says ``loaded``: events through ``track``, consents, the CLV fit, the recompute and the
co-purchase rules). Side by side, the raw driver writing the same stored events with
``insert_many`` in batches of 1,000 into another collection of the same server.

Run: ``python -m bench.demo_load`` (``--persons 1000``).
"""

from __future__ import annotations

import argparse
import asyncio
import time
from typing import Any

from bench.service import machine, serving, today

BATCH = 1_000


async def measure(persons: int) -> dict[str, Any]:
    started = time.perf_counter()
    async with serving({"CDP_DEMO": "1", "CDP_DEMO_PERSONS": str(persons)}) as running:
        answered = time.perf_counter() - started
        while True:
            state = await running.db["config"].find_one({"_id": "demo"})
            if state is not None and state.get("state") == "loaded":
                break
            await asyncio.sleep(0.1)
        loaded = time.perf_counter() - started
        theirs = {"type": {"$nin": ["segment_entered", "segment_left"]}}
        events = await running.db["events"].find(theirs).to_list()
        persons_made = await running.db["persons"].count_documents({"merged_into": None})
        raw_started = time.perf_counter()
        for start in range(0, len(events), BATCH):
            await running.db["raw_events"].insert_many(events[start : start + BATCH])
        raw = time.perf_counter() - raw_started
        engine = running.engine
    return {
        "engine": engine,
        "answered": answered,
        "loaded": loaded,
        "events": len(events),
        "persons": persons_made,
        "raw": raw,
    }


async def main(persons: int) -> None:
    row = await measure(persons)
    print(
        f"| {today()} | {machine(row['engine'])} | {persons:,} | {row['events']:,} "
        f"| {row['persons']:,} | {row['answered']:.1f} s | {row['loaded']:.1f} s "
        f"| {row['raw']:.1f} s |"
    )


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--persons", type=int, default=1_000)
    asyncio.run(main(parser.parse_args().persons))
