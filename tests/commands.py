"""Counting the commands a piece of work sends to the database (a PyMongo listener)."""

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from pymongo import monitoring
from pymongo.asynchronous.database import AsyncDatabase

from cdp.store import Stores
from cdp.store.database import Document, connect

# A new pooled connection signs in first (the embedded server runs with --auth): that is
# the connection's set-up, not the work being counted.
SIGN_IN = frozenset({"saslStart", "saslContinue", "authenticate"})


class Commands(monitoring.CommandListener):
    def __init__(self) -> None:
        self.names: list[str] = []
        self.targets: list[str] = []  # "<command> <collection>", for finding out what read
        self.sent: list[Document] = []  # the commands themselves, for what they asked

    def started(self, event: monitoring.CommandStartedEvent) -> None:
        if event.command_name in SIGN_IN:
            return
        self.names.append(event.command_name)
        target = event.command.get(event.command_name)
        self.targets.append(f"{event.command_name} {target}")
        self.sent.append(dict(event.command))

    def succeeded(self, event: monitoring.CommandSucceededEvent) -> None:
        pass

    def failed(self, event: monitoring.CommandFailedEvent) -> None:
        pass


@asynccontextmanager
async def listening(
    uri: str, db: AsyncDatabase[Document]
) -> AsyncIterator[tuple[Stores, Commands]]:
    """Stores on ``db`` through a client of their own that records every command."""
    listener = Commands()
    client = connect(uri, event_listeners=[listener])
    try:
        yield Stores.on(client[db.name]), listener
    finally:
        await client.close()
