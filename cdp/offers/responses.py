"""Recording what a person did with an offer: what the acceptance estimates learn from,
and what caps and the decline rule read."""

from __future__ import annotations

import enum
from datetime import datetime

from cdp.errors import NotFound
from cdp.models import Channel
from cdp.offers.definitions import LIFECYCLE
from cdp.profiles import find_person
from cdp.store import Stores


class OfferResponse(enum.Enum):
    SHOWN = "SHOWN"
    CLICKED = "CLICKED"
    ACCEPTED = "ACCEPTED"
    DECLINED = "DECLINED"


async def record_response(
    stores: Stores,
    person_id: str,
    offer_id: str,
    response: OfferResponse,
    channel: Channel | None,
    now: datetime,
) -> str:
    """Store the response against the live person; returns its id."""
    profile = await find_person(stores, person_id)
    if profile is None:
        raise NotFound(f"no person has the id {person_id}")
    if not await _offer_exists(stores, offer_id):
        raise NotFound(f"offerId: no offer has the id {offer_id}")
    segment = (profile.metrics or {}).get("rfm_segment") or "none"
    await stores.offers.record_response(
        {
            "person_id": profile.id,
            "offer_id": offer_id,
            "response": response.value,
            "channel": channel.value if channel else None,
            "at": now,
        },
        segment,
    )
    return profile.id


async def _offer_exists(stores: Stores, offer_id: str) -> bool:
    kind, _, rest = offer_id.partition(":")
    if kind == "product" and rest:
        return rest in await stores.products.get_many([rest])
    if kind == "lifecycle" and rest:
        return rest.partition(":")[0] in LIFECYCLE
    return await stores.offers.get(offer_id) is not None
