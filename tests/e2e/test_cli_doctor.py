"""`cdp doctor`: an operator asks what this configuration runs on and whether it works."""

import asyncio
import subprocess

from pymongo.asynchronous.database import AsyncDatabase

from cdp.store.database import Document
from tests.e2e.server import CDP, environment, free_port


async def test_it_names_the_database_and_lists_collections_counts_and_indexes(
    db: AsyncDatabase[Document], mongodb_uri: str
) -> None:
    await db["persons"].insert_one({"_id": "P1"})
    port = free_port()  # nothing listens there: no service
    done = await asyncio.to_thread(
        subprocess.run,
        [str(CDP), "doctor"],
        env=environment(
            {"CDP_MONGODB_URI": mongodb_uri, "CDP_DB_NAME": db.name, "CDP_PORT": str(port)}
        ),
        capture_output=True,
        text=True,
        check=True,
    )
    lines = done.stdout.splitlines()
    assert lines[0].startswith("database:  mongodb://***@") or lines[0].startswith(
        "database:  mongodb://127"
    )
    assert f"database name {db.name}" in lines[0]
    assert lines[1] == f"service:   nothing answers at http://127.0.0.1:{port}/healthz"
    assert lines[2].startswith("server:    MongoDB-compatible ")
    [persons] = [line for line in lines if line.strip().startswith("persons ")]
    assert "1 documents" in persons
    assert "_id_1_merged_into_1" in persons  # the indexes the queries rely on are there
