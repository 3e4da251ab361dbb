"""The ``events`` collection: ``_id`` is the message id, which makes ingestion idempotent."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime

from pymongo.asynchronous.database import AsyncDatabase

from cdp.store.database import Document, chunked, insert_unless_present, repoint
from cdp.timeline import TimelineQuery


class EventStore:
    def __init__(self, db: AsyncDatabase[Document]) -> None:
        self._collection = db["events"]

    async def existing(self, message_ids: Iterable[str]) -> dict[str, str]:
        """Map the ids already stored to the person their event was stored on."""
        found: dict[str, str] = {}
        for chunk in chunked(message_ids):
            cursor = self._collection.find({"_id": {"$in": chunk}}, {"person_id": 1})
            found.update({doc["_id"]: doc["person_id"] async for doc in cursor})
        return found

    async def insert(self, documents: Sequence[Document]) -> set[str]:
        """Insert events; returns the ids that another writer stored first (duplicates)."""
        return await insert_unless_present(self._collection, list(documents))

    async def identifier_groups(self, person_id: str) -> list[tuple[str, list[str]]]:
        """For each event of a person, its id and the identifier keys it carried."""
        cursor = self._collection.find({"person_id": person_id}, {"identifiers": 1})
        return [
            (doc["_id"], [f"{i['type']}:{i['value']}" for i in doc["identifiers"]])
            async for doc in cursor
        ]

    async def assign(self, event_ids: Iterable[str], person_id: str) -> None:
        for chunk in chunked(event_ids):
            await self._collection.update_many(
                {"_id": {"$in": chunk}}, {"$set": {"person_id": person_id}}
            )

    async def of_persons(self, person_ids: Sequence[str]) -> list[Document]:
        """Every event of these persons, oldest first (for a data export)."""
        cursor = self._collection.find({"person_id": {"$in": list(person_ids)}})
        return await cursor.sort([("timestamp", 1), ("_id", 1)]).to_list()

    async def histories(self, person_ids: Iterable[str]) -> dict[str, list[Document]]:
        """What the metrics read of every event of these persons, by person, oldest first."""
        projection = {"person_id": 1, "type": 1, "channel": 1, "timestamp": 1, "properties": 1}
        found: dict[str, list[Document]] = {}
        for chunk in chunked(person_ids):
            async for doc in self._collection.find({"person_id": {"$in": chunk}}, projection):
                found.setdefault(doc["person_id"], []).append(doc)
        for docs in found.values():
            docs.sort(key=lambda doc: (doc["timestamp"], doc["_id"]))
        return found

    async def baskets(self) -> list[list[str]]:
        """The skus of every purchase's items, one list per purchase (the mining input).

        Items are projected whole and their skus read here: the embedded server does not
        resolve ``$properties.items.sku`` through the array.
        """
        pipeline: list[Document] = [
            {"$match": {"type": "purchase", "properties.items.sku": {"$exists": True}}},
            {"$project": {"_id": 0, "items": "$properties.items"}},
        ]
        rows = await (await self._collection.aggregate(pipeline)).to_list()
        return [
            [
                i["sku"]
                for i in row["items"]
                if isinstance(i, dict) and isinstance(i.get("sku"), str)
            ]
            for row in rows
            if isinstance(row.get("items"), list)
        ]

    async def view_sets(self) -> list[list[str]]:
        """For each person, the skus they viewed (the input of view similarity)."""
        pipeline: list[Document] = [
            {"$match": {"type": "product_view", "properties.sku": {"$type": "string"}}},
            {"$group": {"_id": "$person_id", "skus": {"$addToSet": "$properties.sku"}}},
        ]
        rows = await (await self._collection.aggregate(pipeline)).to_list()
        return [list(row["skus"]) for row in rows]

    async def delete_of(self, person_ids: Iterable[str]) -> None:
        for chunk in chunked(person_ids):
            await self._collection.delete_many({"person_id": {"$in": chunk}})

    async def scrub_identifiers(self, identifiers: list[Document]) -> None:
        """Remove these identifiers from events of other persons that carried them too."""
        for chunk in chunked(identifiers):
            await self._collection.update_many(
                {"identifiers": {"$in": chunk}}, {"$pull": {"identifiers": {"$in": chunk}}}
            )

    async def purchase_days(self, before: datetime) -> list[tuple[str, str, float]]:
        """(person, day, spend) for every day a person bought something before ``before``.

        Runs next to the data: one row per purchase day, however many orders that day.
        """
        pipeline: list[Document] = [
            {"$match": {"type": "purchase", "timestamp": {"$lt": before}}},
            {
                "$group": {
                    "_id": {
                        "p": "$person_id",
                        "d": {"$dateToString": {"format": "%Y-%m-%d", "date": "$timestamp"}},
                    },
                    "spend": {"$sum": "$properties.total"},
                }
            },
        ]
        rows = await (await self._collection.aggregate(pipeline)).to_list()
        return [(row["_id"]["p"], row["_id"]["d"], float(row["spend"])) for row in rows]

    async def repoint_many(self, moves: Mapping[str, str]) -> None:
        """Give every event of each merged person to the person it was merged into."""
        await repoint(self._collection, moves)

    async def page(self, person_ids: Sequence[str], query: TimelineQuery) -> list[Document]:
        """One page, newest first, plus one extra event when there is a next page."""
        match = _filter(person_ids, query)
        if query.after is not None:
            at, event_id = query.after.timestamp, query.after.id
            match["$or"] = [
                {"timestamp": {"$lt": at}},
                {"timestamp": at, "_id": {"$lt": event_id}},
            ]
        cursor = (
            self._collection.find(match)
            .sort([("timestamp", -1), ("_id", -1)])
            .limit(query.first + 1)
        )
        return await cursor.to_list()

    async def count(self, person_ids: Sequence[str], query: TimelineQuery) -> int:
        return await self._collection.count_documents(_filter(person_ids, query))


def _filter(person_ids: Sequence[str], query: TimelineQuery) -> Document:
    match: Document = {"person_id": {"$in": list(person_ids)}}
    if query.channels:
        match["channel"] = {"$in": [channel.value for channel in query.channels]}
    if query.types:
        match["type"] = {"$in": list(query.types)}
    window: Document = {}
    if query.since:
        window["$gte"] = query.since
    if query.until:
        window["$lte"] = query.until
    if window:
        match["timestamp"] = window
    return match
