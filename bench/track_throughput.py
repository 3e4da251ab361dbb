"""Events per second through ``track`` over HTTP (batches of 500) against raw ``insert_many``.

Both run against one embedded server in one run, on the same events: first ``cdp serve``
in its own process takes them through the ``Track`` operation of ``schema/operations``
over HTTP (GraphQL, event validation, identifier normalisation, stitching, merges,
links, traits, the per-person refresh), then this process inserts the very documents
``track`` stored with ``insert_many`` into a fresh collection with the same indexes. The
share is what ``track`` keeps of the raw driver's rate.

It also tells the CPU each process spent a batch, from the first call until every
profile was refreshed, and the rate the machine's cores would allow for that much work
if nothing ever waited: a target above that bound needs less work, not fewer waits; and
the rate counted until every profile was current, which a longer refresh lag cannot
flatter (a lag that leaves more of the refresh after the last call raises the calls'
rate only).

Run: ``make bench`` (or ``python -m bench.track_throughput --events 20000``).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import time
from dataclasses import astuple
from datetime import UTC, datetime, timedelta
from typing import Any

from tqdm import tqdm

from bench.service import cpu_work, graphql, machine, operation, refreshed, serving, today
from cdp.store.database import ensure_indexes

TRACK = operation("Track")
CORES = os.cpu_count() or 1  # the database, the service and this client share them
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


async def run(count: int, people: int, batch: int, senders: int) -> dict[str, Any]:
    async with serving() as running:
        events = synthetic_events(count, people)
        batches = [events[i : i + batch] for i in range(0, count, batch)]
        queue: asyncio.Queue[list[dict[str, Any]]] = asyncio.Queue()
        for chunk in batches:
            queue.put_nowait(chunk)
        bar = tqdm(total=len(batches), desc=f"track over HTTP, {senders} at a time", unit="batch")

        async def sender() -> None:
            while not queue.empty():
                chunk = queue.get_nowait()
                result = await graphql(running.http, TRACK, events=chunk)
                assert result["track"]["accepted"] == len(chunk), result["track"]
                bar.update(1)

        work = cpu_work(running)
        started = time.perf_counter()
        await asyncio.gather(*(sender() for _ in range(senders)))
        track_seconds = time.perf_counter() - started
        bar.close()
        # The persons of bulk batches are refreshed just after each call (cdp.profile.refresher):
        # how long until every profile counts every event.
        await refreshed(running)
        caught_up = time.perf_counter() - started - track_seconds
        tracked = work()  # storing and refreshing every event, the client's part included

        client = running.db.client
        raw_db = client[f"{running.db.name}_raw"]
        await ensure_indexes(raw_db)  # the same indexes as the service's events
        stored = await running.db["events"].find().sort("_id", 1).to_list()
        documents = [stored[i : i + batch] for i in range(0, len(stored), batch)]
        work = cpu_work(running)
        started = time.perf_counter()
        for chunk in tqdm(documents, desc="insert_many", unit="batch"):
            await raw_db["events"].insert_many(chunk, ordered=False)
        raw_seconds = time.perf_counter() - started
        inserted = work()
        await client.drop_database(raw_db.name)

        persons = await running.db["persons"].count_documents({"merged_into": None})
        merges = await running.db["merges"].count_documents({})
        engine = running.engine
    track_rate, raw_rate = count / track_seconds, len(stored) / raw_seconds
    return {
        "engine": engine,
        "events": count,
        "stored": len(stored),
        "persons": persons,
        "merges": merges,
        "track_per_second": track_rate,
        "raw_per_second": raw_rate,
        "share": track_rate / raw_rate,
        "caught_up": caught_up,
        # the rate counted until every profile holds every event (the refresh's lag in)
        "current_per_second": count / (track_seconds + caught_up),
        # CPU milliseconds a batch of ``batch`` events: the service's, the database's,
        # the client's; and the database's for the raw insert of as many documents
        "work": [1000 * spent * batch / count for spent in astuple(tracked)],
        "raw_database_work": 1000 * inserted.database * batch / len(stored),
        # the most two cores could do with this much work, waiting for nothing
        "bound_per_second": count / (tracked.total / CORES),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=20_000)
    parser.add_argument("--people", type=int, default=5_000)
    parser.add_argument("--batch", type=int, default=500)
    parser.add_argument("--senders", type=int, default=1, help="batches in flight at once")
    args = parser.parse_args()
    figures = asyncio.run(run(args.events, args.people, args.batch, args.senders))
    print(
        f"\n| {today()} | {machine(figures['engine'])} | {figures['events']:,} events over HTTP, "
        f"{args.batch} per batch, {args.senders} in flight, {figures['persons']:,} persons, "
        f"{figures['merges']:,} merges | {figures['track_per_second']:,.0f}/s "
        f"| {figures['raw_per_second']:,.0f}/s ({figures['stored']:,} documents) "
        f"| {figures['share']:.0%} | {figures['caught_up']:.1f} s |"
    )
    service, database, client = figures["work"]
    bound = figures["bound_per_second"]
    print(
        f"CPU a batch of {args.batch}: service {service:.0f} ms, database {database:.0f} ms, "
        f"client {client:.0f} ms (the raw insert's database {figures['raw_database_work']:.0f} "
        f"ms); {CORES} cores allow at most {bound:,.0f}/s for this work "
        f"({bound / figures['raw_per_second']:.0%} of raw); counted until every profile was "
        f"current, {figures['current_per_second']:,.0f}/s"
    )


if __name__ == "__main__":
    main()
