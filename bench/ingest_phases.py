"""The ingest benchmark's load followed group by group: what a batch costs as the store fills.

``bench/track_throughput.py`` gives one rate for a whole run; this follows the same events
(its 5,000 customers) through ``cdp serve`` over HTTP ten batches at a time, waits for
the refresher after each group, and says per group the wall time and the service's and
the database's CPU a batch, with the documents stored and the size of the server's oplog.
Where a cost rises, the table says when (the oplog reaching its cap, merges beginning);
then the oplog's entries of one group in the middle of the run, by collection and
operation: the documents a batch writes, each of which the server later prunes again.

``--server-flag`` passes a flag to the embedded server beside the service's own, to
compare server settings on the same load (docs/DECISIONS.md, "Once the oplog is full,
every write is paid again"). Not part of ``make bench``: a run of 30,000 events takes about
two minutes.

Run: ``python -m bench.ingest_phases`` (``--events``, ``--people``, ``--group``,
``--server-flag=--oplog-max-entries=100000000``).
"""

from __future__ import annotations

import argparse
import asyncio
import time
from collections import Counter
from typing import Any

from bench.service import (
    Running,
    cpu_work,
    graphql,
    machine,
    operation,
    refreshed,
    serving,
    today,
)
from bench.track_throughput import synthetic_events
from cdp.store.database import Document

TRACK = operation("Track")
BATCH = 500
COUNTED = ("persons", "identifiers", "events", "merges")


async def newest_entry(running: Running) -> Any:
    oplog = running.db.client["local"]["oplog.rs"]
    newest = await oplog.find({}, {"ts": 1}).sort("$natural", -1).limit(1).to_list()
    return newest[0]["ts"] if newest else None


async def entries_since(running: Running, since: Any) -> Counter[str]:
    """The oplog's entries after ``since`` on this database, by collection and operation
    (a transaction's inner writes counted one by one)."""
    prefix = f"{running.db.name}."
    kinds: Counter[str] = Counter()
    oplog = running.db.client["local"]["oplog.rs"]
    async for entry in oplog.find({"ts": {"$gt": since}}, {"ns": 1, "op": 1, "o": 1}):
        inner: list[Document] = (entry.get("o") or {}).get("applyOps") or [entry]
        for write in inner:
            namespace = str(write.get("ns", ""))
            if namespace.startswith(prefix):
                kinds[f"{namespace.removeprefix(prefix)} {write.get('op')}"] += 1
    return kinds


async def run(count: int, people: int, group: int, server_flags: list[str]) -> None:
    async with serving(server_flags=server_flags) as running:
        events = synthetic_events(count, people)
        batches = [events[i : i + BATCH] for i in range(0, count, BATCH)]
        middle = (len(batches) // group // 2) * group
        print(f"{today()}, {machine(running.engine)}, server flags: {server_flags or 'none'}")
        print(f"{count:,} events of {people:,} customers, {BATCH} a batch, {group} a group\n")
        print(
            "| batches | wall a batch | service CPU a batch | database CPU a batch | "
            + " | ".join(COUNTED)
            + " | oplog entries |"
        )
        print("| --- " * (5 + len(COUNTED)) + "|")
        mix: Counter[str] = Counter()
        oplog = running.db.client["local"]["oplog.rs"]
        for start in range(0, len(batches), group):
            chunk = batches[start : start + group]
            since = await newest_entry(running) if start == middle else None
            work = cpu_work(running)
            began = time.perf_counter()
            for batch in chunk:
                await graphql(running.http, TRACK, events=batch)
            await refreshed(running, poll=0.05)
            wall, spent = time.perf_counter() - began, work()
            if since is not None:
                mix = await entries_since(running, since)
            sizes = [await running.db[name].estimated_document_count() for name in COUNTED]
            entries = await oplog.estimated_document_count()
            print(
                f"| {start}-{start + len(chunk) - 1} | {1000 * wall / len(chunk):,.0f} ms "
                f"| {1000 * spent.service / len(chunk):,.0f} ms "
                f"| {1000 * spent.database / len(chunk):,.0f} ms | "
                + " | ".join(f"{size:,}" for size in sizes)
                + f" | {entries:,} |",
                flush=True,
            )
        if mix:
            span = min(group, len(batches) - middle)
            print(f"\nOplog entries a batch, batches {middle}-{middle + span - 1}:\n")
            print("| collection, operation | entries a batch |\n| --- | --- |")
            for kind, entries in mix.most_common():
                print(f"| {kind} | {entries / span:,.0f} |")
            print(f"| in all | {sum(mix.values()) / span:,.0f} |")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=30_000)
    parser.add_argument("--people", type=int, default=5_000)
    parser.add_argument("--group", type=int, default=10, help="batches between two readings")
    parser.add_argument(
        "--server-flag",
        action="append",
        default=[],
        help="a flag for the embedded server, e.g. --server-flag=--oplog-max-entries=100000000",
    )
    args = parser.parse_args()
    flags = [part for flag in args.server_flag for part in flag.split("=", 1)]
    asyncio.run(run(args.events, args.people, args.group, flags))


if __name__ == "__main__":
    main()
