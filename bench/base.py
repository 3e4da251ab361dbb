"""A synthetic customer base written straight into the collections, for the segment
benchmarks: persons with identifiers and a few events each (purchases with items,
product and content views, email opens, carts), several channels and devices.

Written with ``insert_many`` rather than through ``track``: the benchmarks measure what
happens after ingest, and 100,000 persons through ``track`` would take the better part
of an hour on the embedded server.
"""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta
from typing import Any

from tqdm import tqdm

from cdp.segments.manage import create_segment
from cdp.store import Stores
from cdp.store.database import Document
from identity import new_person_id

NOW = datetime(2026, 11, 1, 12, tzinfo=UTC)
CHANNELS = ["WEB", "MOBILE_APP", "EMAIL", "STORE", "FACEBOOK"]
CATEGORIES = ["shoes", "tents", "jackets", "books", "tea", "yoga", "bikes", "maps"]


def person_events(person_id: str, number: int, rng: random.Random) -> list[Document]:
    events = []
    for k in range(rng.choice([1, 2, 3, 3, 4, 6])):
        kind = rng.choice(["purchase", "product_view", "content_view", "email_open", "add_to_cart"])
        category = rng.choice(CATEGORIES)
        properties: dict[str, Any] = {
            "category": category,
            "device": rng.choice(["mobile", "desktop"]),
        }
        if kind == "purchase":
            total = round(rng.uniform(10, 300), 2)
            properties = {
                "orderId": f"o{number}-{k}",
                "total": total,
                "items": [
                    {"sku": f"{category}-{rng.randrange(40)}", "category": category, "price": total}
                ],
            }
        elif kind == "content_view":
            properties = {"topic": category}
        events.append(
            {
                "_id": f"e{number}-{k}",
                "person_id": person_id,
                "type": kind,
                "channel": rng.choice(CHANNELS),
                "timestamp": NOW - timedelta(days=rng.randrange(400), minutes=rng.randrange(1440)),
                "received_at": NOW,
                "identifiers": [{"type": "email", "value": f"c{number}@example.com"}],
                "properties": properties,
                "traits": {},
            }
        )
    return events


async def seed_base(db: Any, persons: int, seed: int = 11, chunk: int = 5_000) -> list[str]:
    """Write ``persons`` persons with identifiers and events; return their ids."""
    rng = random.Random(seed)
    ids: list[str] = []
    with tqdm(total=persons, desc=f"seeding {persons:,} persons", unit=" persons") as bar:
        for start in range(0, persons, chunk):
            people, identifiers, events = [], [], []
            for number in range(start, min(start + chunk, persons)):
                pid = new_person_id()
                ids.append(pid)
                people.append(
                    {
                        "_id": pid,
                        "created_at": NOW,
                        "updated_at": NOW,
                        "traits": {"country": rng.choice(["FR", "DE", "GB"])},
                        "trait_times": {"country": NOW},
                        "offer_history": [],  # as track creates a person
                    }
                )
                identifiers.append(
                    {
                        "_id": f"email:c{number}@example.com",
                        "person_id": pid,
                        "type": "email",
                        "value": f"c{number}@example.com",
                        "first_seen": NOW,
                        "last_seen": NOW,
                    }
                )
                events += person_events(pid, number, rng)
            await db["persons"].insert_many(people, ordered=False)
            await db["identifiers"].insert_many(identifiers, ordered=False)
            await db["events"].insert_many(events, ordered=False)
            bar.update(len(people))
    return ids


async def define_user_segments(stores: Stores) -> None:
    """Two user segments: one counting events (a $unionWith when compiled), one on a trait."""
    await create_segment(
        stores,
        "Tent browsers",
        "",
        {"events": {"type": "product_view", "where": [{"path": "category", "value": "tents"}]}},
        NOW,
    )
    await create_segment(
        stores, "French", "", {"trait": {"name": "country", "op": "EQ", "value": "FR"}}, NOW
    )
