"""Writes that must survive PyMongo sending them twice across a database restart."""

import pytest
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import BulkWriteError

from cdp.store.database import Document, insert_fresh


async def test_a_fresh_document_written_twice_is_written_once(
    db: AsyncDatabase[Document],
) -> None:
    """The server stored the landing, restarted before answering, and PyMongo sent the
    insert again: the second attempt finds its own document, which is success."""
    landing = {"_id": "3af559a7768744ca", "events": ["order-7-3"], "received_at": None}
    await insert_fresh(db["landings"], [landing])
    await insert_fresh(db["landings"], [dict(landing)])  # the retried write
    assert await db["landings"].count_documents({}) == 1


async def test_other_write_errors_still_raise(db: AsyncDatabase[Document]) -> None:
    await db.create_collection("strict", validator={"$jsonSchema": {"required": ["events"]}})
    with pytest.raises(BulkWriteError):  # a refused document must not pass silently
        await insert_fresh(db["strict"], [{"_id": "x"}])
    assert await db["strict"].count_documents({}) == 0
