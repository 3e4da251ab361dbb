"""Recording what a person did with an offer: what the acceptance estimates learn from,
and what caps and the decline rule read."""

from __future__ import annotations

import enum
from datetime import UTC, datetime
from typing import Any

from cdp.errors import NotFound
from cdp.offers.exploration import Decision
from cdp.offers.lifecycle import BY_NAME as LIFECYCLE
from cdp.profile.find import Profile, find_person
from cdp.records import Channel
from cdp.store import Stores


class OfferResponse(enum.Enum):
    SHOWN = "SHOWN"
    CLICKED = "CLICKED"
    ACCEPTED = "ACCEPTED"
    DECLINED = "DECLINED"


REMEMBERED = frozenset({OfferResponse.SHOWN, OfferResponse.DECLINED})


async def record_response(
    stores: Stores,
    person_id: str,
    offer_id: str,
    response: OfferResponse,
    channel: Channel | None,
    now: datetime,
    decision: Decision | None = None,
) -> str:
    """Store the response against the live person; returns its id. With the
    ``decision`` the offer came with, the response is tied to that answer and carries
    the probability the policy had of showing it (what offline evaluation reads).

    The log and the counts come first, then the profile's copy: a call cut in between
    leaves the copy one response short, which the caller's retry makes up for (a shown
    offer counted twice against its cap errs on the side of contacting less).
    """
    profile = await find_person(stores, person_id)
    if profile is None:
        raise NotFound(f"no person has the id {person_id}")
    if not await _offer_exists(stores, offer_id):
        raise NotFound(f"offerId: no offer has the id {offer_id}")
    earlier = await history_before_copy(stores, profile)
    await stores.offers.record_response(
        response_document(profile.id, offer_id, response, channel, now, decision),
        rfm_key(profile),
    )
    if response in REMEMBERED:  # what caps and the decline rule read, kept on the profile
        await stores.persons.remember_offer_responses(
            profile.id, [*earlier, remembered(offer_id, response, now)]
        )
    return profile.id


def response_document(
    person_id: str,
    offer_id: str,
    response: OfferResponse,
    channel: Channel | str | None,
    now: datetime,
    decision: Decision | None = None,
) -> dict[str, Any]:
    """A response as the log keeps it, tied to its answer when the decision is known."""
    return {
        "person_id": person_id,
        "offer_id": offer_id,
        "response": response.value,
        "channel": channel.value if isinstance(channel, Channel) else channel,
        "at": now,
        **({"decision": decision.answer, "propensity": decision.propensity} if decision else {}),
    }


def remembered(offer_id: str, response: OfferResponse, now: datetime) -> dict[str, Any]:
    """A response as the profile's copy keeps it (caps and the decline rule read it)."""
    return {"offer_id": offer_id, "response": response.value, "at": now}


def rfm_key(profile: Profile) -> str:
    """The segment a response is counted under beside the overall count."""
    return str((profile.metrics or {}).get("rfm_segment") or "none")


async def history_before_copy(stores: Stores, profile: Profile) -> list[dict[str, Any]]:
    """What a profile from before the copy existed must start it with (nothing for a
    profile that has one)."""
    return [] if profile.offer_history is not None else await _logged(stores, profile)


async def _logged(stores: Stores, profile: Profile) -> list[dict[str, Any]]:
    """A profile from before the copy existed starts it from the log (read before this
    response is logged, so it is not counted twice)."""
    logged = await stores.offers.responses_of(profile.family, datetime.min.replace(tzinfo=UTC))
    return [
        {"offer_id": doc["offer_id"], "response": doc["response"], "at": doc["at"]}
        for doc in sorted(logged, key=lambda doc: doc["at"])
        if doc["response"] in {r.value for r in REMEMBERED}
    ]


async def _offer_exists(stores: Stores, offer_id: str) -> bool:
    kind, _, rest = offer_id.partition(":")
    if kind == "product" and rest:
        return rest in await stores.products.get_many([rest])
    if kind == "lifecycle" and rest:
        return rest.partition(":")[0] in LIFECYCLE
    return await stores.offers.get(offer_id) is not None
