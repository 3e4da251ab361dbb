"""Bulk recompute of the whole base: every person's metrics from their events, RFM and
CLV tier boundaries, every membership (built-in, interest and two user segments), on
100,000 persons with about 3.5 events each, then the same recompute again with nothing
changed. Reports the time of each run and of each stage of the first, and the peak
memory of this process (RSS); the embedded server's own memory is reported apart, as it
is a separate process.

Run: ``python -m bench.bulk_recompute`` (``--persons 100000``).
"""

from __future__ import annotations

import argparse
import asyncio
import time
from collections import defaultdict
from datetime import timedelta

import psutil

from bench.base import NOW, define_user_segments, seed_base
from bench.service import machine, today
from cdp import bootstrap
from cdp.segments.recompute import recompute_all
from cdp.store import Stores
from cdp.store.embedded import EmbeddedServer

MIB = 1024 * 1024


async def main(persons: int) -> None:
    server = EmbeddedServer(None)
    uri = server.start()
    try:
        async with bootstrap.database(uri, "bench_recompute") as db:
            try:
                await seed_base(db, persons)
                events = await db["events"].count_documents({})
                stores = Stores.on(db)
                await define_user_segments(stores)
                process = psutil.Process()
                stage_started: dict[str, float] = {}
                stage_seconds: dict[str, float] = defaultdict(float)
                peak_rss = process.memory_info().rss

                def progress(stage: str, done: int, total: int) -> None:
                    nonlocal peak_rss
                    now = time.perf_counter()
                    stage_started.setdefault(stage, now)
                    stage_seconds[stage] = now - stage_started[stage]
                    peak_rss = max(peak_rss, process.memory_info().rss)

                started = time.perf_counter()
                report = await recompute_all(stores, NOW, progress)
                seconds = time.perf_counter() - started
                started = time.perf_counter()
                again = await recompute_all(stores, NOW + timedelta(minutes=5))
                rerun = time.perf_counter() - started
                server_rss = server_memory(server)
                memberships = await db["memberships"].count_documents({})
            finally:
                await db.client.drop_database(db.name)
    finally:
        server.stop()
    stages = ", ".join(f"{name} {secs:.0f} s" for name, secs in stage_seconds.items())
    print(
        f"\n| {today()} | {machine(server.label)} | {report.persons:,} persons, {events:,} "
        f"events, {report.segments} segments, {memberships:,} memberships "
        f"| {seconds:.0f} s ({stages}) | {rerun:.1f} s ({again.recomputed:,} recomputed, "
        f"{again.entered + again.left} membership changes) | {peak_rss / MIB:.0f} MiB RSS "
        f"| {server_rss} |"
    )


def server_memory(server: EmbeddedServer) -> str:
    pid = server.pid
    if pid is None:
        return "n/a"
    try:
        return f"{psutil.Process(pid).memory_info().rss / MIB:.0f} MiB"
    except psutil.Error:
        return "n/a"


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--persons", type=int, default=100_000)
    asyncio.run(main(parser.parse_args().persons))
