"""The ``offers`` collection (explicit offers), ``offer_responses`` (what each person did
with what they were shown) and ``offer_stats`` (responses counted per offer and segment,
what the acceptance estimate learns from)."""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from datetime import datetime

from pymongo import UpdateOne
from pymongo.asynchronous.database import AsyncDatabase

from cdp.store.database import Document, chunked


class OfferStore:
    def __init__(self, db: AsyncDatabase[Document]) -> None:
        self._offers = db["offers"]
        self._responses = db["offer_responses"]
        self._stats = db["offer_stats"]

    async def active(self) -> list[Document]:
        return await self._offers.find({"archived": {"$ne": True}}).sort("_id", 1).to_list()

    async def get(self, offer_id: str) -> Document | None:
        return await self._offers.find_one({"_id": offer_id})

    async def insert(self, document: Document) -> bool:
        existing = await self._offers.find_one({"_id": document["_id"]}, {"_id": 1})
        if existing is not None:
            return False
        await self._offers.insert_one(document)
        return True

    async def replace(self, document: Document) -> bool:
        result = await self._offers.replace_one({"_id": document["_id"]}, document)
        return result.matched_count == 1

    async def archive(self, offer_id: str, now: datetime) -> bool:
        result = await self._offers.update_one(
            {"_id": offer_id}, {"$set": {"archived": True, "updated_at": now}}
        )
        return result.matched_count == 1

    async def record_response(self, response: Document, segment: str) -> None:
        """Store the response, then count it (a retry after a cut counts at most once more)."""
        await self._responses.insert_one({"_id": uuid.uuid4().hex, **response})
        counts = {response["response"].lower(): 1}
        await self._stats.bulk_write(
            [
                UpdateOne({"_id": f"{response['offer_id']}|{key}"}, {"$inc": counts}, upsert=True)
                for key in (segment, "*")
            ],
            ordered=False,
        )

    async def responses_of(self, person_ids: Iterable[str], since: datetime) -> list[Document]:
        found: list[Document] = []
        for chunk in chunked(person_ids):
            found += await self._responses.find(
                {"person_id": {"$in": chunk}, "at": {"$gte": since}}
            ).to_list()
        return found

    async def stats(self, keys: Iterable[str]) -> dict[str, Document]:
        found: dict[str, Document] = {}
        for chunk in chunked(keys):
            async for doc in self._stats.find({"_id": {"$in": chunk}}):
                found[doc["_id"]] = doc
        return found

    async def delete_responses_of(self, person_ids: Iterable[str]) -> None:
        for chunk in chunked(person_ids):
            await self._responses.delete_many({"person_id": {"$in": chunk}})
