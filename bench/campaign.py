"""One campaign to a segment, as marketing runs it: ``cdp offers campaign`` writing each
member's best offer to a file, against the database's own read speed.

A base of customers written straight into the collections (``bench/base.py``), a
catalogue of the products its baskets name, co-purchase rules mined, one bulk recompute
(so every profile carries the facts offers read), every customer consented to email
marketing. Then the command runs as a user runs it (its own process, the embedded server
by URI) for the largest segment on EMAIL, and prints its rate; side by side,
the raw driver reads the same members' profiles.

Run: ``python -m bench.campaign`` (``--persons 20000``).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from bench.base import CATEGORIES, NOW, seed_base
from bench.service import machine, today
from cdp import bootstrap
from cdp.offers.mining import rebuild_offer_models
from cdp.offers.products import upsert_products
from cdp.segments.recompute import recompute_all
from cdp.store import Stores
from cdp.store.embedded import EmbeddedServer

CDP = Path(sys.executable).with_name("cdp")


async def prepare(uri: str, name: str, persons: int) -> tuple[str, int]:
    async with bootstrap.database(uri, name) as db:
        await seed_base(db, persons)
        stores = Stores.on(db)
        skus = await db["events"].distinct("properties.items.sku")
        products = [
            {"sku": sku, "name": f"Product {sku}", "price": 20.0, "category": CATEGORIES[n % 8]}
            for n, sku in enumerate(sorted(s for s in skus if isinstance(s, str)))
        ]
        for start in range(0, len(products), 1000):
            await upsert_products(stores, products[start : start + 1000], NOW)
        await rebuild_offer_models(stores, 20, 0.05, NOW)
        await recompute_all(stores, NOW, full=True)
        ids = [doc["_id"] async for doc in db["persons"].find({}, {"_id": 1})]
        await db["consents"].insert_many(
            [
                {
                    "person_id": p,
                    "purpose": "marketing",
                    "channel": "EMAIL",
                    "granted": True,
                    "source": "bench",
                    "at": NOW,
                }
                for p in ids
            ]
        )
        await recompute_all(stores, NOW, full=True)  # consented channels onto the profiles
        pipeline: list[dict[str, Any]] = [
            {"$group": {"_id": "$segment_id", "members": {"$sum": 1}}},
            {"$sort": {"members": -1}},
            {"$limit": 1},
        ]
        [largest] = await (await db["memberships"].aggregate(pipeline)).to_list()
        return str(largest["_id"]), int(largest["members"])


async def raw_read(uri: str, name: str, segment: str) -> float:
    async with bootstrap.database(uri, name) as db:
        started = time.perf_counter()
        members = [d["person_id"] async for d in db["memberships"].find({"segment_id": segment})]
        for start in range(0, len(members), 500):
            await db["persons"].find({"_id": {"$in": members[start : start + 500]}}).to_list()
        return len(members) / (time.perf_counter() - started)


def main(persons: int) -> None:
    server = EmbeddedServer(None)
    uri = server.start()
    name = "bench_campaign"
    try:
        segment, members = asyncio.run(prepare(uri, name, persons))
        out = Path(tempfile.mkdtemp()) / "campaign.jsonl"
        env = {k: v for k, v in os.environ.items() if not k.startswith("CDP_")}
        env.update({"CDP_MONGODB_URI": uri, "CDP_DB_NAME": name})
        started = time.perf_counter()
        done = subprocess.run(
            [
                str(CDP),
                "offers",
                "campaign",
                "--segment",
                segment,
                "--channel",
                "EMAIL",
                "--out",
                str(out),
            ],
            env=env,
            capture_output=True,
            text=True,
            check=True,
        )
        wall = time.perf_counter() - started
        rate = float(re.search(r"\(([\d,]+) persons/s\)", done.stdout).group(1).replace(",", ""))  # type: ignore[union-attr]
        lines = sum(1 for _ in out.open())
        raw = asyncio.run(raw_read(uri, name, segment))
    finally:
        server.stop()
    print(done.stdout.strip())
    print(
        f"\n| {today()} | {machine(server.label)} | {persons:,} persons, {members:,} in "
        f"{segment} (the largest), EMAIL | {rate:,.0f} persons/s ({lines:,} offers, "
        f"{wall:.1f} s with start-up) | {raw:,.0f} profiles/s |"
    )


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--persons", type=int, default=20_000)
    main(parser.parse_args().persons)
