"""Failing the server's writes at a chosen point, to test what a crash leaves behind."""

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import pytest
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import OperationFailure

from cdp.store.database import Document


@asynccontextmanager
async def _fail_point(
    db: AsyncDatabase[Document], mode: object, data: object
) -> AsyncIterator[None]:
    """The server's ``failCommand`` fail point on for the block (skipped where it has none)."""
    admin = db.client.admin
    try:
        await admin.command({"configureFailPoint": "failCommand", "mode": mode, "data": data})
    except OperationFailure as error:
        pytest.skip(f"server has no failCommand fail point: {error}")
    try:
        yield
    finally:
        await admin.command({"configureFailPoint": "failCommand", "mode": "off"})


@asynccontextmanager
async def failing_writes(
    db: AsyncDatabase[Document], skip: int, commands: tuple[str, ...] = ("update",)
) -> AsyncIterator[None]:
    """Let ``skip`` of ``commands`` through, then fail every one of them until the block ends."""
    data = {"failCommands": list(commands), "errorCode": 2}
    async with _fail_point(db, {"skip": skip}, data):
        yield


@asynccontextmanager
async def refused_once(db: AsyncDatabase[Document], command: str, code: int) -> AsyncIterator[None]:
    """The server refuses the next ``command`` with ``code`` (as a real MongoDB would
    for a limit the embedded one does not enforce), then answers as usual."""
    async with _fail_point(db, {"times": 1}, {"failCommands": [command], "errorCode": code}):
        yield
