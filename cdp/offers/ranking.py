"""Choosing the offers to make: eligibility first, then probability of acceptance times
value, with a small share of exploration.

The probability is a Beta-Binomial estimate per offer and segment: it starts from a prior
(about 1 acceptance in 20 showings) and sharpens with every recorded response, so a new
offer is neither ignored nor trusted blindly. Pure: the flow in ``cdp.offers.next_best``
gathers the facts and calls :func:`rank`.
"""

from __future__ import annotations

import random
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from cdp.offers.definitions import Offer
from cdp.offers.policy import OfferPolicy


@dataclass(frozen=True, slots=True)
class Candidate:
    offer: Offer
    reason: str  # a sentence a support agent can read aloud
    evidence: Mapping[str, Any]
    product_name: str | None = None


@dataclass(frozen=True, slots=True)
class Facts:
    """What eligibility needs to know about the person."""

    segments: frozenset[str]
    bought: frozenset[str]
    consented_channels: frozenset[str]
    preferred_channel: str | None
    most_active_hour: int | None
    shown: Mapping[str, list[datetime]] = field(default_factory=dict)  # by offer id
    declined: Mapping[str, datetime] = field(default_factory=dict)  # last decline by offer
    rule_matches: Mapping[str, bool] = field(default_factory=dict)  # offer id -> rule result


@dataclass(frozen=True, slots=True)
class Recommendation:
    candidate: Candidate
    score: float
    probability: float
    channel: str
    send_at: datetime
    explored: bool = False


@dataclass(frozen=True, slots=True)
class Suppressed:
    candidate: Candidate
    why: str


def probability(stats: Mapping[str, Any] | None, policy: OfferPolicy) -> float:
    shown = accepted = 0
    if stats:
        accepted = int(stats.get("accepted", 0))
        shown = max(int(stats.get("shown", 0)), accepted + int(stats.get("declined", 0)))
    return (policy.prior_accepts + accepted) / (policy.prior_accepts + policy.prior_rejects + shown)


def suppression(
    candidate: Candidate,
    facts: Facts,
    channel: str | None,
    policy: OfferPolicy,
    now: datetime,
) -> str | None:
    """Why this candidate may not be offered now, or None."""
    offer = candidate.offer
    if offer.archived:
        return "the offer is archived"
    if offer.valid_from and now < offer.valid_from:
        return f"the offer starts on {offer.valid_from:%Y-%m-%d}"
    if offer.valid_until and now > offer.valid_until:
        return f"the offer ended on {offer.valid_until:%Y-%m-%d}"
    if offer.segments and not facts.segments & set(offer.segments):
        return f"not in any of the offer's segments ({', '.join(offer.segments)})"
    if offer.rule is not None and not facts.rule_matches.get(offer.id, False):
        return "does not match the offer's eligibility rule"
    if offer.sku and offer.sku in facts.bought and not offer.id.startswith("lifecycle:"):
        return f"already bought {offer.sku}"
    declined = facts.declined.get(offer.id)
    if declined and now - declined < timedelta(days=policy.decline_days):
        return f"declined on {declined:%Y-%m-%d}; not shown again for {policy.decline_days} days"
    if offer.cap_per_person is not None:
        window = now - timedelta(days=offer.cap_period_days)
        recent = [t for t in facts.shown.get(offer.id, []) if t >= window]
        if len(recent) >= offer.cap_per_person:
            return (
                f"shown {len(recent)} times in {offer.cap_period_days} days "
                f"(cap {offer.cap_per_person})"
            )
    if not choose_channel(offer, facts, channel):
        asked = f" on {channel}" if channel else ""
        return f"no channel{asked} that the person consented to and the offer may use"
    return None


def choose_channel(offer: Offer, facts: Facts, asked: str | None) -> str | None:
    allowed = set(facts.consented_channels)
    if offer.channels:
        allowed &= offer.channels
    if asked is not None:
        return asked if asked in allowed else None
    if facts.preferred_channel in allowed:
        return facts.preferred_channel
    return min(allowed) if allowed else None


def send_time(hour: int | None, now: datetime) -> datetime:
    """The next time the person is usually active (UTC), or now when unknown."""
    if hour is None:
        return now
    at = now.replace(hour=hour, minute=0, second=0, microsecond=0)
    return at if at >= now else at + timedelta(days=1)


def rank(
    candidates: Sequence[Candidate],
    facts: Facts,
    stats: Mapping[str, Mapping[str, Any]],
    segment_key: str,
    policy: OfferPolicy,
    limit: int,
    channel: str | None,
    rng: random.Random,
    now: datetime,
) -> tuple[list[Recommendation], list[Suppressed]]:
    """The best ``limit`` offers, and every suppressed candidate with its reason.

    Fallback offers are considered only when nothing else is eligible. With probability
    ``policy.exploration`` the last place goes to a random eligible offer from below the
    top, so the estimates keep learning and nobody sees only the same few offers.
    """
    eligible: list[Recommendation] = []
    suppressed: list[Suppressed] = []
    for candidate in candidates:
        why = suppression(candidate, facts, channel, policy, now)
        if why is not None:
            suppressed.append(Suppressed(candidate, why))
            continue
        offer = candidate.offer
        p = probability(
            stats.get(f"{offer.id}|{segment_key}") or stats.get(f"{offer.id}|*"), policy
        )
        eligible.append(
            Recommendation(
                candidate,
                score=round(p * offer.value, 4),
                probability=round(p, 4),
                channel=choose_channel(offer, facts, channel) or "",
                send_at=send_time(facts.most_active_hour, now),
            )
        )
    primary = [r for r in eligible if not r.candidate.offer.fallback]
    pool = primary or [r for r in eligible if r.candidate.offer.fallback]
    pool.sort(key=lambda r: (-r.score, r.candidate.offer.id))
    chosen = pool[:limit]
    rest = pool[limit:]
    if chosen and rest and rng.random() < policy.exploration:
        pick = rest[rng.randrange(len(rest))]
        chosen[-1] = Recommendation(
            pick.candidate, pick.score, pick.probability, pick.channel, pick.send_at, explored=True
        )
    return chosen, suppressed
