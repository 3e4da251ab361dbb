"""Live events while an import runs: one returning customer's event every 50 ms over HTTP
while the ingest benchmark's bulk load goes through ``track`` beside it, against the raw
driver inserting the same kind of document at the same moments.

A support screen or a shop page sends single events all day; an integration's import
must not make them wait seconds. ``cdp serve`` on a fresh database; 300 customers sent
first (so the live events are theirs, as a logged-in shopper's are); then the 20,000
events of ``bench/track_throughput.py`` in batches of 500, one in flight, and beside
them, until the load ends, a single ``page_view`` of one of the 300 every 50 ms, each
followed by a raw ``insert_one`` of an event document. Percentiles of both, and the
load's own rate.

Run: ``make bench`` (or ``python -m bench.live_beside_import``).
"""

from __future__ import annotations

import asyncio
import time
from typing import Any

from bench.service import graphql, machine, operation, percentile, serving, today
from bench.track_throughput import synthetic_events

TRACK = operation("Track")
CUSTOMERS = 300
EVERY_SECONDS = 0.05


def live_event(n: int, at: str) -> dict[str, Any]:
    return {
        "messageId": f"live-{n}",
        "type": "page_view",
        "channel": "WEB",
        "identifiers": [{"type": "email", "value": f"live{n % CUSTOMERS}@example.com"}],
        "timestamp": at,
        "properties": {"url": f"/p/{n % 50}"},
    }


async def run(count: int) -> dict[str, Any]:
    async with serving() as running:
        first = [live_event(n, "2026-05-01T00:00:00+00:00") for n in range(CUSTOMERS)]
        await graphql(running.http, TRACK, events=first)
        await asyncio.sleep(1)  # their refresh: the live events find them current
        events = synthetic_events(count, 5_000)
        raw_events = running.db["raw_events"]
        loading = True
        service_ms: list[float] = []
        raw_ms: list[float] = []

        async def bulk() -> float:
            nonlocal loading
            started = time.perf_counter()
            for i in range(0, len(events), 500):
                result = await graphql(running.http, TRACK, events=events[i : i + 500])
                assert result["track"]["accepted"] == len(events[i : i + 500]), result["track"]
            loading = False
            return len(events) / (time.perf_counter() - started)

        async def live() -> None:
            n = CUSTOMERS
            while loading:
                started = time.perf_counter()
                result = await graphql(
                    running.http, TRACK, events=[live_event(n, "2026-06-01T00:00:00+00:00")]
                )
                service_ms.append((time.perf_counter() - started) * 1000)
                assert result["track"]["accepted"] == 1, result["track"]
                document = {"_id": f"raw-{n}", "person_id": "p", "type": "page_view"}
                started = time.perf_counter()
                await raw_events.insert_one(document)
                raw_ms.append((time.perf_counter() - started) * 1000)
                n += 1
                await asyncio.sleep(EVERY_SECONDS)

        rate, _ = await asyncio.gather(bulk(), live())
        engine = running.engine
    return {
        "engine": engine,
        "rate": rate,
        "live": len(service_ms),
        "service": [percentile(service_ms, q) for q in (0.5, 0.95, 0.99)],
        "raw": [percentile(raw_ms, q) for q in (0.5, 0.95, 0.99)],
    }


def main() -> None:
    figures = asyncio.run(run(20_000))
    s50, s95, s99 = figures["service"]
    r50, r95, r99 = figures["raw"]
    print(
        f"\n| {today()} | {machine(figures['engine'])} | {figures['live']} live events beside "
        f"20,000 in batches of 500 | {s50:.0f} / {s95:.0f} / {s99:.0f} ms "
        f"| {r50:.1f} / {r95:.1f} / {r99:.1f} ms | {figures['rate']:,.0f}/s |"
    )


if __name__ == "__main__":
    main()
