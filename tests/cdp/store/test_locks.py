"""The stitching lease across instances: given back, waited for, taken from the dead."""

import asyncio
import socket
import subprocess
import sys
from datetime import UTC, datetime, timedelta

from pymongo.asynchronous.database import AsyncDatabase

from cdp.store.database import Document
from cdp.store.locks import STITCHING, DatabaseLock


def a_dead_pid() -> int:
    finished = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], check=True, capture_output=True, text=True)  # fmt: skip
    return int(finished.stdout)


async def test_a_second_instance_waits_for_the_first(db: AsyncDatabase[Document]) -> None:
    first, second = DatabaseLock(db), DatabaseLock(db)
    order: list[str] = []

    async def stitch(lock: DatabaseLock, name: str) -> None:
        async with lock.held():
            order.append(f"{name} in")
            await asyncio.sleep(0.05)
            order.append(f"{name} out")

    await asyncio.gather(stitch(first, "a"), stitch(second, "b"))
    assert order in (["a in", "a out", "b in", "b out"], ["b in", "b out", "a in", "a out"])
    assert await db["locks"].count_documents({}) == 0


async def test_a_lease_left_by_a_killed_process_on_this_machine_is_taken_at_once(
    db: AsyncDatabase[Document],
) -> None:
    await db["locks"].insert_one(
        {
            "_id": STITCHING,
            "token": "killed",
            "host": socket.gethostname(),
            "pid": a_dead_pid(),
            "until": datetime.now(UTC) + timedelta(minutes=10),
        }
    )
    async with asyncio.timeout(2):  # not the ten minutes of the lease
        async with DatabaseLock(db).held():
            pass


async def test_an_expired_lease_of_another_machine_is_taken(db: AsyncDatabase[Document]) -> None:
    await db["locks"].insert_one(
        {
            "_id": STITCHING,
            "token": "elsewhere",
            "host": "another-host",
            "pid": 1,
            "until": datetime.now(UTC) - timedelta(seconds=1),
        }
    )
    async with asyncio.timeout(2):
        async with DatabaseLock(db).held():
            pass
