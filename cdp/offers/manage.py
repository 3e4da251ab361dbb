"""Defining explicit offers: checked as a whole, stored, archived (never deleted, so the
responses recorded against an offer keep their meaning)."""

from __future__ import annotations

import re
import secrets
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from cdp.errors import BadUserInput, Conflict, NotFound
from cdp.offers.definitions import Offer, OfferKind, is_amount
from cdp.records import Channel
from cdp.segments.lookup import find_segment
from cdp.segments.rules import RuleError, parse_rule, rule_to_data
from cdp.store import Stores

_ID = re.compile(r"^[a-z0-9][a-z0-9_\-]{0,63}$")


async def active_offers(stores: Stores) -> list[Offer]:
    """Explicit offers not archived, by id."""
    return [Offer.from_document(doc) for doc in await stores.offers.active()]


async def create_offer(stores: Stores, data: Mapping[str, Any], now: datetime) -> Offer:
    offer_id = data.get("id") or f"offer_{secrets.token_hex(6)}"
    if not isinstance(offer_id, str) or not _ID.match(offer_id):
        raise BadUserInput(f"id: {offer_id!r} must be lower-case letters, digits, _ and -")
    doc = await _document(stores, offer_id, data, now, created=now)
    if not await stores.offers.insert(doc):
        raise Conflict(f"id: an offer {offer_id} already exists")
    return Offer.from_document(doc)


async def update_offer(
    stores: Stores, offer_id: str, data: Mapping[str, Any], now: datetime
) -> Offer:
    current = await stores.offers.get(offer_id)
    if current is None:
        raise NotFound(f"no offer has the id {offer_id}")
    doc = await _document(stores, offer_id, data, now, created=current.get("created_at", now))
    doc["archived"] = current.get("archived", False)
    await stores.offers.replace(doc)
    return Offer.from_document(doc)


async def archive_offer(stores: Stores, offer_id: str, now: datetime) -> None:
    if not await stores.offers.archive(offer_id, now):
        raise NotFound(f"no offer has the id {offer_id}")


async def _document(
    stores: Stores, offer_id: str, data: Mapping[str, Any], now: datetime, created: datetime
) -> dict[str, Any]:
    name = " ".join(str(data.get("name") or "").split())
    if not 1 <= len(name) <= 120:
        raise BadUserInput("name: give a name of 1 to 120 characters")
    kind = data.get("kind")
    if not isinstance(kind, OfferKind):
        raise BadUserInput(f"kind: one of {', '.join(k.value for k in OfferKind)}")
    value = data.get("value")
    if not is_amount(value):
        raise BadUserInput("value: the offer's value to the business, a number of 0 or more")
    channels = [c.value if isinstance(c, Channel) else str(c) for c in data.get("channels") or []]
    segments = list(data.get("segments") or [])
    for i, segment in enumerate(segments):
        if await find_segment(stores, str(segment)) is None:
            raise BadUserInput(f"segments[{i}]: no segment has the id {segment}")
    rule = data.get("rule")
    if rule is not None:
        try:
            rule = rule_to_data(parse_rule(rule))
        except RuleError as error:
            raise BadUserInput(str(error)) from None
    valid_from, valid_until = data.get("valid_from"), data.get("valid_until")
    if valid_from and valid_until and valid_from >= valid_until:
        raise BadUserInput("validUntil: must be after validFrom")
    cap = data.get("cap_per_person")
    if cap is not None and cap < 1:
        raise BadUserInput("capPerPerson: at least 1 (leave it out for no cap)")
    period = data.get("cap_period_days") or 30
    if not 1 <= period <= 3650:
        raise BadUserInput("capPeriodDays: 1 to 3650")
    sku = data.get("sku")
    if kind is OfferKind.PRODUCT and not sku:
        raise BadUserInput("sku: a PRODUCT offer names its product")
    if sku and str(sku) not in await stores.products.get_many([str(sku)]):
        raise BadUserInput(f"sku: no product has the sku {sku!r}; add it with upsertProducts first")
    return {
        "_id": offer_id,
        "name": name,
        "kind": kind.value,
        "description": str(data.get("description") or "")[:1000],
        "value": float(value),
        "channels": sorted(set(channels)),
        "segments": segments,
        "rule": rule,
        "valid_from": valid_from,
        "valid_until": valid_until,
        "cap_per_person": cap,
        "cap_period_days": period,
        "fallback": bool(data.get("fallback")),
        "sku": sku,
        "archived": False,
        "created_at": created,
        "updated_at": now,
    }
