"""`make run` on an empty database: demo customers appear while the service already
answers, once; a database with data of its own, or CDP_DEMO=0, is left alone."""

import asyncio
import time
from pathlib import Path

from pymongo.asynchronous.database import AsyncDatabase

from cdp.store.database import Document
from tests.e2e.server import Service, graphql, serving

LOADED = "demo: 40 demo customers"


def _wait_for(service: Service, line: str) -> None:
    deadline = time.monotonic() + 90
    while line not in service.output():
        assert time.monotonic() < deadline, f"no {line!r} in:\n{service.output()}"
        time.sleep(0.2)


def _persons(service: Service) -> int:
    page = graphql(service.client, "Persons", first=100)["persons"]
    assert not page["pageInfo"]["hasNextPage"]
    return len(page["edges"])


async def test_the_first_start_loads_the_demo_and_the_next_start_does_not_load_it_again(
    db: AsyncDatabase[Document], mongodb_uri: str, tmp_path: Path
) -> None:
    env = {
        "CDP_MONGODB_URI": mongodb_uri,
        "CDP_DB_NAME": db.name,
        "CDP_DEMO": "1",
        "CDP_DEMO_PERSONS": "40",
    }
    with serving(env, tmp_path) as first:
        _wait_for(first, LOADED)
        persons = _persons(first)
        segments = graphql(first.client, "Segments")["segments"]
    assert 25 <= persons <= 40  # some demo customers reach us through several channels
    sizes = {segment["id"]: segment["size"] for segment in segments}
    assert sizes["lapsed_90d"] > 0
    assert sizes["rfm_champions"] > 0

    with serving(env, tmp_path) as second:
        await asyncio.sleep(1.0)
        assert _persons(second) == persons
        assert "demo: loading" not in second.output()


async def test_a_database_with_its_own_customers_or_demo_off_stays_as_it_is(
    db: AsyncDatabase[Document], mongodb_uri: str, tmp_path: Path
) -> None:
    env = {"CDP_MONGODB_URI": mongodb_uri, "CDP_DB_NAME": db.name}
    with serving({**env, "CDP_DEMO": "0"}, tmp_path) as off:
        graphql(
            off.client,
            "Track",
            events=[
                {
                    "messageId": "own-1",
                    "type": "signup",
                    "channel": "WEB",
                    "identifiers": [{"type": "email", "value": "first@shop.example"}],
                }
            ],
        )
    with serving({**env, "CDP_DEMO": "1", "CDP_DEMO_PERSONS": "40"}, tmp_path) as on:
        await asyncio.sleep(1.0)
        assert _persons(on) == 1
        assert "demo: loading" not in on.output()
