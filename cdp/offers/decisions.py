"""The log of answers: what each nextBestOffers answer considered and showed, with the
probabilities the policy had, so a different policy can be evaluated offline on it
(:mod:`cdp.offers.evaluation`). One small document per answer that showed something."""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime
from typing import Any

from cdp.offers.evaluation import LoggedAnswer
from cdp.offers.exploration import Considered
from cdp.offers.next_best import OfferAnswer
from cdp.store import Stores

READ_BATCH = 1000  # answers whose responses are read at once


async def log_answer(stores: Stores, person_id: str, answer: OfferAnswer, now: datetime) -> None:
    if answer.recommendations:
        await stores.offers.log_decisions([decision_document(person_id, answer, now)])


def decision_document(person_id: str, answer: OfferAnswer, now: datetime) -> dict[str, Any]:
    """What the log keeps of an answer: every eligible candidate as it was ranked."""
    return {
        "_id": answer.answer_id,
        "person_id": person_id,
        "at": now,
        "exploration": answer.exploration,
        "shown": [r.candidate.offer.id for r in answer.recommendations],
        "candidates": [
            {
                "offer": c.offer,
                "greedy": c.greedy,
                "thompson": round(c.thompson, 6),
                "expected": round(c.expected, 6),
                "value": c.value,
            }
            for c in answer.considered
        ],
    }


async def logged_answers(stores: Stores, since: datetime) -> list[LoggedAnswer]:
    """Logged answers from ``since`` on that the client said it showed (a SHOWN response
    tied by its decision), with the offers accepted in each."""
    found: list[LoggedAnswer] = []
    batch: list[dict[str, Any]] = []

    async def flush() -> None:
        responses = await stores.offers.responses_to([doc["_id"] for doc in batch])
        shown: dict[str, set[str]] = defaultdict(set)
        accepted: dict[str, set[str]] = defaultdict(set)
        for response in responses:
            if response["response"] == "SHOWN":
                shown[response["decision"]].add(response["offer_id"])
            elif response["response"] == "ACCEPTED":
                accepted[response["decision"]].add(response["offer_id"])
        for doc in batch:
            if shown.get(doc["_id"]):
                candidates = [
                    Considered(c["offer"], c["greedy"], c["thompson"], c["expected"], c["value"])
                    for c in doc["candidates"]
                ]
                found.append(
                    LoggedAnswer(
                        doc["exploration"],
                        candidates,
                        frozenset(shown[doc["_id"]]),
                        frozenset(accepted[doc["_id"]]),
                    )
                )
        batch.clear()

    async for doc in stores.offers.decisions(since):
        batch.append(doc)
        if len(batch) == READ_BATCH:
            await flush()
    await flush()
    return found
