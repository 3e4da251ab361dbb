"""Bulk recompute of the whole base: every person's metrics from their events, RFM and
CLV tier boundaries, every membership (built-in, interest and two user segments), on
100,000 persons with about 3.5 events each. Reports the time of each stage and the peak
memory of this process (RSS, and the Python heap by tracemalloc); the embedded server's
own memory is reported apart, as it is a separate process.

Run: ``python -m bench.bulk_recompute`` (``--persons 100000``).
"""

from __future__ import annotations

import argparse
import asyncio
import platform
import time
import tracemalloc
from collections import defaultdict

import psutil

from bench.base import NOW, define_user_segments, seed_base
from cdp.segments.recompute import recompute_all
from cdp.store import Stores
from cdp.store.database import connect, ensure_indexes
from cdp.store.embedded import EmbeddedServer

MIB = 1024 * 1024


async def main(persons: int) -> None:
    server = EmbeddedServer(None)
    uri = server.start()
    client = connect(uri)
    db = client["bench_recompute"]
    try:
        await ensure_indexes(db)
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

        tracemalloc.start()
        started = time.perf_counter()
        report = await recompute_all(stores, NOW, progress)
        seconds = time.perf_counter() - started
        _, heap_peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        server_rss = server_memory(server)
        memberships = await db["memberships"].count_documents({})
    finally:
        await client.drop_database("bench_recompute")
        await client.close()
        server.stop()
    stages = ", ".join(f"{name} {secs:.0f} s" for name, secs in stage_seconds.items())
    print(
        f"\n| {time.strftime('%Y-%m-%d')} | {platform.machine()}, CPython "
        f"{platform.python_version()} | {report.persons:,} persons, {events:,} events, "
        f"{report.segments} segments, {memberships:,} memberships | {seconds:.0f} s ({stages}) "
        f"| {peak_rss / MIB:.0f} MiB RSS, {heap_peak / MIB:.0f} MiB Python heap peak "
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
