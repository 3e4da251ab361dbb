"""`cdp demo`: demo customers into a database, or their events into a file for import."""

import asyncio
import json
import subprocess
from pathlib import Path

from pymongo.asynchronous.database import AsyncDatabase

from cdp.store.database import Document
from tests.e2e.server import CDP, environment


async def _cdp(env: dict[str, str], *arguments: str) -> subprocess.CompletedProcess[str]:
    return await asyncio.to_thread(
        subprocess.run,
        [str(CDP), *arguments],
        env=environment(env),
        capture_output=True,
        text=True,
    )


async def test_it_loads_the_customers_and_a_second_run_stores_nothing_twice(
    db: AsyncDatabase[Document], mongodb_uri: str
) -> None:
    env = {"CDP_MONGODB_URI": mongodb_uri, "CDP_DB_NAME": db.name}
    first = await _cdp(env, "demo", "--persons", "30", "--seed", "4")
    assert first.returncode == 0, first.stderr
    assert first.stdout.startswith("30 demo customers: ")
    assert ", 0 already there, 0 rejected" in first.stdout
    assert await db["products"].count_documents({}) > 0
    assert await db["consents"].count_documents({}) > 0
    again = await _cdp(env, "demo", "--persons", "30", "--seed", "4")
    assert ": 0 events stored, " in again.stdout


async def test_out_writes_importable_events_and_a_bad_count_is_refused_in_words(
    tmp_path: Path,
) -> None:
    out = tmp_path / "demo.jsonl"
    written = await _cdp({}, "demo", "--persons", "5", "--out", str(out))
    assert written.returncode == 0, written.stderr
    events = [json.loads(line) for line in out.read_text().splitlines()]
    assert {"messageId", "type", "channel", "identifiers", "timestamp"} <= set(events[0])
    refused = await _cdp({}, "demo", "--persons", "0")
    assert refused.returncode == 2
    assert "--persons must be between 1 and 100000" in refused.stderr
