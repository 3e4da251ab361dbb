"""Offers: explicit ones an admin defines, implicit product offers (every catalogue
product, its price as value); the lifecycle offers are in :mod:`cdp.offers.lifecycle`."""

from __future__ import annotations

import enum
import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, TypeGuard

from cdp.segments.rules import Rule, parse_rule


def is_amount(value: object) -> TypeGuard[int | float]:
    """A price or an offer's value: a finite number of 0 or more (``True`` is not one)."""
    return (
        isinstance(value, int | float)
        and not isinstance(value, bool)
        and math.isfinite(value)
        and value >= 0
    )


class OfferKind(enum.Enum):
    PRODUCT = "PRODUCT"
    DISCOUNT = "DISCOUNT"
    CONTENT = "CONTENT"
    SERVICE = "SERVICE"


@dataclass(frozen=True, slots=True)
class Offer:
    id: str
    name: str
    kind: OfferKind
    value: float  # to the business, per acceptance
    description: str = ""
    channels: frozenset[str] = frozenset()  # empty: any channel
    segments: tuple[str, ...] = ()  # eligible when in any of them (empty: everyone)
    rule: Rule | None = None  # and matching this rule
    valid_from: datetime | None = None
    valid_until: datetime | None = None
    cap_per_person: int | None = None  # showings per person per cap period
    cap_period_days: int = 30
    fallback: bool = False  # shown only when nothing else is eligible
    sku: str | None = None  # the product a PRODUCT offer is about
    archived: bool = False
    evidence: Mapping[str, Any] = field(default_factory=dict)

    @classmethod
    def from_document(cls, doc: Mapping[str, Any]) -> Offer:
        return cls(
            id=doc["_id"],
            name=doc["name"],
            kind=OfferKind(doc["kind"]),
            value=doc["value"],
            description=doc.get("description", ""),
            channels=frozenset(doc.get("channels", [])),
            segments=tuple(doc.get("segments", [])),
            rule=parse_rule(doc["rule"]) if doc.get("rule") else None,
            valid_from=doc.get("valid_from"),
            valid_until=doc.get("valid_until"),
            cap_per_person=doc.get("cap_per_person"),
            cap_period_days=doc.get("cap_period_days", 30),
            fallback=doc.get("fallback", False),
            sku=doc.get("sku"),
            archived=doc.get("archived", False),
        )


def product_offer(sku: str, name: str, price: float) -> Offer:
    """The implicit offer of a catalogue product."""
    return Offer(f"product:{sku}", name, OfferKind.PRODUCT, price, sku=sku)


@dataclass(frozen=True, slots=True)
class Candidate:
    """An offer worth considering for a person, with why (read aloud by an agent) and
    the evidence behind it (what the ranking's prior is made of)."""

    offer: Offer
    reason: str
    evidence: Mapping[str, Any]
    product_name: str | None = None
