"""Choosing the offers to make: eligibility first, then probability of acceptance times
value, with a small share of exploration.

The probability is a Beta-Binomial estimate per offer and segment whose prior comes from
the evidence behind the candidate (:func:`prior_of`): a co-purchase rule's confidence,
shrunk toward the base rate by how few baskets support it; an interest's weight; the
base rate for lifecycle and explicit offers. Recorded responses then sharpen it, so a
new offer is neither ignored nor trusted blindly, and before any response the strongest
evidence ranks first. Ties go to the stronger evidence, never to the name. Pure: the
flow in ``cdp.offers.next_best`` gathers the facts and calls :func:`rank`.
"""

from __future__ import annotations

import random
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Any

from cdp.offers.definitions import Candidate, Offer
from cdp.offers.exploration import Arm, Considered, choose
from cdp.offers.lifecycle import STARTING_RATES
from cdp.offers.policy import OfferPolicy


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
    prior: Prior | None = None
    propensity: float = 1.0  # the probability that the policy showed it (see exploration)
    posterior: tuple[float, float] = (1.0, 19.0)  # Beta (alpha, beta) when it was ranked


@dataclass(frozen=True, slots=True)
class Suppressed:
    candidate: Candidate
    why: str


INTEREST_CEILING = 0.15  # an interest at full weight: three times the usual base rate


@dataclass(frozen=True, slots=True)
class Prior:
    """What is believed of a candidate's acceptance before its responses: a mean, how
    many showings' worth that belief is (responses outweigh it as they come), and how
    much evidence stands behind it (baskets, an interest's weight): the tie-breaker."""

    mean: float
    showings: float
    evidence: float
    basis: str  # which numbers, in words


def prior_of(candidate: Candidate, policy: OfferPolicy) -> Prior:
    """The prior a candidate's own evidence gives it."""
    showings = policy.prior_accepts + policy.prior_rejects
    base = policy.prior_accepts / showings
    found = candidate.evidence
    if found.get("source") in ("co-purchase", "view-similarity"):
        together, seen = int(found["count"]), int(found["antecedentCount"])
        # confidence, shrunk toward the base rate as if `showings` more baskets had it
        mean = (together + base * showings) / (seen + showings)
        basis = (
            f"{found['confidence']:.0%} of {seen} baskets with "
            f"{' and '.join(found['antecedent'])} also had {found['consequent']}"
        )
        return Prior(mean, showings, float(seen), basis)
    if found.get("source") == "interest":
        weight = float(found.get("weight") or 0.0)
        mean = base + weight * (INTEREST_CEILING - base)
        return Prior(mean, showings, weight, f"interest in {found['category']} at {weight:.2f}")
    if found.get("source") == "lifecycle":
        kind = candidate.offer.id.split(":")[1]
        rate = STARTING_RATES.get(kind, base)  # the registry's starting belief
        return Prior(rate, showings, 0.0, f"the starting rate of {kind} offers, {rate:.0%}")
    return Prior(base, showings, 0.0, f"the base rate of {base:.0%}")


def posterior(
    stats: Mapping[str, Any] | None, policy: OfferPolicy, prior: Prior | None = None
) -> tuple[float, float]:
    """The Beta posterior (alpha, beta): the prior as pseudo-showings plus responses."""
    shown = accepted = 0
    if stats:
        accepted = int(stats.get("accepted", 0))
        shown = max(int(stats.get("shown", 0)), accepted + int(stats.get("declined", 0)))
    if prior is None:
        prior_accepts = policy.prior_accepts
        prior_showings = policy.prior_accepts + policy.prior_rejects
    else:
        prior_accepts, prior_showings = prior.mean * prior.showings, prior.showings
    return prior_accepts + accepted, prior_showings - prior_accepts + shown - accepted


def probability(
    stats: Mapping[str, Any] | None, policy: OfferPolicy, prior: Prior | None = None
) -> float:
    """The posterior mean: what the evidence and the responses so far expect."""
    alpha, beta = posterior(stats, policy, prior)
    return alpha / (alpha + beta)


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
) -> tuple[list[Recommendation], list[Suppressed], list[Considered]]:
    """The best ``limit`` offers, every suppressed candidate with its reason, and every
    eligible one as logged for offline evaluation.

    Fallback offers are considered only when nothing else is eligible. With probability
    ``policy.exploration`` the answer is a Thompson draw rather than the top of the
    ranking (:mod:`cdp.offers.exploration`), so the estimates keep learning where the
    evidence is thin; each recommendation carries the probability it had of being shown.
    """
    eligible: list[Recommendation] = []
    suppressed: list[Suppressed] = []
    for candidate in candidates:
        why = suppression(candidate, facts, channel, policy, now)
        if why is not None:
            suppressed.append(Suppressed(candidate, why))
            continue
        offer = candidate.offer
        prior = prior_of(candidate, policy)
        found = stats.get(f"{offer.id}|{segment_key}") or stats.get(f"{offer.id}|*")
        alpha, beta = posterior(found, policy, prior)
        p = alpha / (alpha + beta)
        eligible.append(
            Recommendation(
                candidate,
                score=round(p * offer.value, 4),
                probability=round(p, 4),
                channel=choose_channel(offer, facts, channel) or "",
                send_at=send_time(facts.most_active_hour, now),
                prior=prior,
                posterior=(alpha, beta),
            )
        )
    primary = [r for r in eligible if not r.candidate.offer.fallback]
    pool = primary or [r for r in eligible if r.candidate.offer.fallback]
    pool.sort(
        key=lambda r: (-r.score, -(r.prior.evidence if r.prior else 0.0), r.candidate.offer.id)
    )
    pool = _one_per_product(pool)
    arms = [Arm(*r.posterior, r.candidate.offer.value) for r in pool]
    choice = choose(arms, limit, policy.exploration, rng.randrange(2**32))
    top = set(range(min(limit, len(pool))))
    chosen = [
        replace(
            pool[i],
            propensity=round(choice.propensity[i], 4),
            explored=choice.explored and i not in top,
        )
        for i in choice.shown
    ]
    considered = [
        Considered(
            r.candidate.offer.id,
            i in top,
            choice.thompson[i],
            r.posterior[0] / (r.posterior[0] + r.posterior[1]),
            r.candidate.offer.value,
        )
        for i, r in enumerate(pool)
    ]
    return chosen, suppressed, considered


def _one_per_product(ranked: list[Recommendation]) -> list[Recommendation]:
    """The best-ranked offer of each product only: a lifecycle reminder and a co-purchase
    offer naming the same sku are one thing to the customer. The reasons of those left
    out travel with the one kept (``evidence.alsoBecause``, their offers in
    ``evidence.alsoOffers``), so nothing an agent should
    know is lost."""
    kept: list[Recommendation] = []
    by_sku: dict[str, int] = {}
    for recommendation in ranked:
        sku = recommendation.candidate.offer.sku
        if sku is None or sku not in by_sku:
            if sku is not None:
                by_sku[sku] = len(kept)
            kept.append(recommendation)
            continue
        first = kept[by_sku[sku]]
        evidence = dict(first.candidate.evidence)
        evidence["alsoBecause"] = [
            *evidence.get("alsoBecause", []),
            recommendation.candidate.reason,
        ]
        evidence["alsoOffers"] = [  # which offers those reasons came from
            *evidence.get("alsoOffers", []),
            recommendation.candidate.offer.id,
        ]
        kept[by_sku[sku]] = replace(first, candidate=replace(first.candidate, evidence=evidence))
    return kept
