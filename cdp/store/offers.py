"""The ``offers`` collection (explicit offers), ``offer_responses`` (what each person did
with what they were shown) and ``offer_stats`` (responses counted per offer and segment,
what the acceptance estimate learns from)."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Iterable, Sequence
from datetime import datetime

from pymongo import UpdateOne
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import DuplicateKeyError

from cdp.store.catalogue import CachedCatalogue, CatalogueVersion
from cdp.store.database import (
    WHOLE_ANSWER,
    Document,
    chunked,
    find_in,
    insert_fresh,
    read_in_chunks,
)


class OfferStore:
    def __init__(
        self, db: AsyncDatabase[Document], version: CatalogueVersion, catalogue: CachedCatalogue
    ) -> None:
        self._version = version  # bumped after each write to offers, for the cache
        self._catalogue = catalogue  # drops the counts a response changes
        self._offers = db["offers"]
        self._responses = db["offer_responses"]
        self._decisions = db["offer_decisions"]  # each answer's candidates, for evaluation
        self._stats = db["offer_stats"]

    async def active(self) -> list[Document]:
        return await self._offers.find({"archived": {"$ne": True}}).sort("_id", 1).to_list()

    async def get(self, offer_id: str) -> Document | None:
        return await self._offers.find_one({"_id": offer_id})

    async def insert(self, document: Document) -> bool:
        """False when another offer has this id. One found equal to ``document`` is this
        very insert, applied by a database that restarted before answering and sent again
        by PyMongo (or the same offer created twice at once): success."""
        try:
            await self._offers.insert_one(document)
        except DuplicateKeyError:
            if await self._offers.find_one({"_id": document["_id"]}) != document:
                return False
        await self._version.bump()
        return True

    async def replace(self, document: Document) -> bool:
        result = await self._offers.replace_one({"_id": document["_id"]}, document)
        await self._version.bump()
        return result.matched_count == 1

    async def archive(self, offer_id: str, now: datetime) -> bool:
        result = await self._offers.update_one(
            {"_id": offer_id}, {"$set": {"archived": True, "updated_at": now}}
        )
        await self._version.bump()
        return result.matched_count == 1

    async def record_response(self, response: Document, segment: str) -> None:
        """Store the response, then count it (a retry after a cut counts at most once more)."""
        await self.record_responses_many([(response, segment)])

    async def record_responses_many(self, responses: Sequence[tuple[Document, str]]) -> None:
        """Store responses (each with the person's RFM segment), then count them: one
        insert, one count per offer and segment."""
        if not responses:
            return
        await insert_fresh(self._responses, [{"_id": uuid.uuid4().hex, **r} for r, _ in responses])
        counts: dict[str, dict[str, int]] = {}
        for response, segment in responses:
            for key in (f"{response['offer_id']}|{segment}", f"{response['offer_id']}|*"):
                field = response["response"].lower()
                counts.setdefault(key, {}).setdefault(field, 0)
                counts[key][field] += 1
        await self._stats.bulk_write(
            [UpdateOne({"_id": key}, {"$inc": inc}, upsert=True) for key, inc in counts.items()],
            ordered=False,
        )
        self._catalogue.forget_stats(list(counts))

    async def log_decisions(self, decisions: Sequence[Document]) -> None:
        await insert_fresh(self._decisions, list(decisions))

    async def responses_of(self, person_ids: Iterable[str], since: datetime) -> list[Document]:

        async def read(chunk: list[str]) -> list[Document]:
            wanted = {"person_id": {"$in": chunk}, "at": {"$gte": since}}
            return await self._responses.find(wanted, batch_size=WHOLE_ANSWER).to_list()

        return await read_in_chunks(person_ids, read)

    async def delete_responses_of(self, person_ids: Iterable[str]) -> None:
        for chunk in chunked(person_ids):
            await self._responses.delete_many({"person_id": {"$in": chunk}})
            await self._decisions.delete_many({"person_id": {"$in": chunk}})

    async def decisions_of(self, person_ids: Iterable[str]) -> list[Document]:
        return [doc async for doc in find_in(self._decisions, "person_id", person_ids)]

    async def decisions(self, since: datetime) -> AsyncIterator[Document]:
        """Logged answers from ``since`` on, oldest first (streamed: any number)."""
        cursor = self._decisions.find({"at": {"$gte": since}}).sort("at", 1)
        async for doc in cursor:
            yield doc

    async def responses_to(self, decisions: Iterable[str]) -> list[Document]:
        """Responses tied to these answers."""
        return [doc async for doc in find_in(self._responses, "decision", decisions)]
