"""Next-best-offer for one person: read what is known, make candidates, rank them.

Made to answer in well under one GraphQL round trip, so it reads almost nothing: the
person's bought, viewed and carted products, consented channels, segments and recent
offer responses are on the profile (kept there by each event, segment evaluation and
response), and the catalogue (products, rules, offers, response counts) comes through
the in-memory cache of :mod:`cdp.store.catalogue`. The person's events are read only
when an explicit offer's rule counts events, and identifier types only when one asks
about them. A profile written before these fields existed is read the long way.
"""

from __future__ import annotations

import random
import uuid
from collections import Counter, defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from cdp.errors import NotFound
from cdp.metrics.trail import RECENT_VIEW_DAYS, Trail, trail
from cdp.offers.copurchase import CoPurchaseRule, offers_for
from cdp.offers.definitions import Candidate, Offer, product_offer
from cdp.offers.exploration import Considered, Decision
from cdp.offers.lifecycle import Situation, lifecycle_candidates
from cdp.offers.policy import OfferPolicy
from cdp.offers.ranking import Facts, Recommendation, Suppressed, rank
from cdp.privacy.consent import marketing_channels
from cdp.privacy.consent_records import consents_of
from cdp.profile.compute import interactions
from cdp.profile.find import Profile, find_person
from cdp.records import Channel
from cdp.segments.describe import describe
from cdp.segments.evaluate import EventFacts, Subject, matches
from cdp.segments.lookup import all_segments
from cdp.segments.rules import EventCount, HasIdentifier, Rule, conditions, parse_rule
from cdp.store import Stores
from cdp.store.database import Document

INTEREST_PRODUCTS = 20  # catalogue products considered per answer from the person's interests
TOP_INTERESTS = 5
CART_DAYS = 30


@dataclass(frozen=True, slots=True)
class OfferAnswer:
    recommendations: list[Recommendation]
    suppressed: list[Suppressed]
    # ties each shown offer's response to this answer (Decision); not what was answered
    answer_id: str = field(default="", compare=False)
    considered: list[Considered] = field(default_factory=list)  # what offline evaluation reads
    exploration: float = 0.0  # the policy's epsilon when it answered

    def decision(self, chosen: Recommendation) -> Decision:
        return Decision(self.answer_id, chosen.candidate.offer.id, chosen.propensity)


@dataclass(frozen=True, slots=True)
class PersonFacts:
    """What the offers read of the person, from the profile or, for an old profile,
    from the collections behind it."""

    trail: Trail
    consented: frozenset[str]
    segments: frozenset[str]
    responses: list[Mapping[str, Any]]


async def next_best_offers(
    stores: Stores,
    person: str | Profile,
    *,
    limit: int,
    channel: Channel | None,
    policy: OfferPolicy,
    now: datetime,
) -> OfferAnswer:
    """Offers for a person given by id, or already loaded (the GraphQL field has it)."""
    profile = person if isinstance(person, Profile) else await find_person(stores, person)
    if profile is None:
        raise NotFound(f"no person has the id {person}")
    metrics = profile.metrics or {}
    known = await person_facts(stores, profile, policy, now)
    catalogue = stores.catalogue
    explicit = await catalogue.active_offers()
    bought, viewed = set(known.trail.bought), set(known.trail.viewed)
    touched = await catalogue.rules_from(bought | viewed)  # both kinds in one read
    purchase_rules = [d for d in touched if d.get("source", "purchase") == "purchase"]
    view_rules = [d for d in touched if d.get("source") == "view"]
    interests = [i["topic"] for i in metrics.get("interests") or []][:TOP_INTERESTS]
    per_interest = -(-INTEREST_PRODUCTS // len(interests)) if interests else 0
    by_interest = await catalogue.in_categories(interests, per_interest)
    rules = offers_for([_rule(doc) for doc in purchase_rules], bought)
    similar = {
        sku: rule
        for sku, rule in offers_for([_rule(doc) for doc in view_rules], viewed | bought).items()
        if sku not in rules
    }
    wished = list(metrics.get("wishlist") or [])
    carted = _carted(known.trail, now)
    compared = _compared(known.trail, bought, now)
    skus = (
        set(rules)
        | set(similar)
        | set(wished)
        | {s for s in (carted, compared) if s}
        | {p["_id"] for p in by_interest}
        | {doc["sku"] for doc in explicit if doc.get("sku")}
    )
    found = await catalogue.products(skus)
    products = {sku: doc for sku, doc in found.items() if doc.get("offerable", True)}
    weights = {i["topic"]: float(i.get("weight") or 0.0) for i in metrics.get("interests") or []}
    candidates = _product_candidates(rules, similar, by_interest, products, weights)
    candidates += await _explicit(stores, explicit, products)
    candidates += lifecycle_candidates(
        Situation(
            metrics,
            known.segments,
            products,
            tuple(wished),
            carted,
            compared,
            policy.low_stock,
            policy.lifecycle_value,
        )
    )
    segment_key = metrics.get("rfm_segment") or "none"
    stats = await catalogue.stats(
        f"{c.offer.id}|{k}" for c in candidates for k in (segment_key, "*")
    )
    facts = Facts(
        segments=known.segments,
        bought=frozenset(bought),
        consented_channels=known.consented,
        preferred_channel=metrics.get("preferred_channel"),
        most_active_hour=metrics.get("most_active_hour"),
        shown=_shown(known.responses),
        declined=_declined(known.responses),
        rule_matches=await _rule_matches(stores, profile, candidates, now),
    )
    seed = policy.exploration_seed
    rng = (
        random.Random(f"{seed}:{profile.id}:{now.date()}") if seed is not None else random.Random()
    )
    chosen, suppressed, considered = rank(
        candidates,
        facts,
        stats,
        segment_key,
        policy,
        limit,
        channel.value if channel else None,
        rng,
        now,
    )
    return OfferAnswer(chosen, suppressed, uuid.uuid4().hex, considered, policy.exploration)


async def person_facts(
    stores: Stores, profile: Profile, policy: OfferPolicy, now: datetime
) -> PersonFacts:
    """The person's side of the answer: no read for a profile the refresh has written."""
    metrics = profile.metrics or {}
    if "trail" in metrics and "marketing_channels" in metrics:
        found = Trail.from_document(metrics["trail"])
        consented = frozenset(metrics["marketing_channels"])
    else:
        found = trail(interactions(await _own_events(stores, profile)), now)
        consented = marketing_channels(await consents_of(stores, profile.family))
    if profile.segment_ids is not None:
        segments = frozenset(profile.segment_ids)
    else:
        segments = frozenset(
            (await stores.memberships.of_persons([profile.id])).get(profile.id, {})
        )
    if profile.offer_history is not None:
        responses: list[Mapping[str, Any]] = list(profile.offer_history)
    else:
        since = now - timedelta(days=max(policy.decline_days, 3650))
        responses = list(await stores.offers.responses_of(profile.family, since))
    return PersonFacts(found, consented, segments, responses)


async def _rule_matches(
    stores: Stores, profile: Profile, candidates: Sequence[Candidate], now: datetime
) -> dict[str, bool]:
    """Whether each explicit offer's eligibility rule holds; events and identifier types
    are read only when a rule asks about them."""
    rules: dict[str, Rule] = {c.offer.id: c.offer.rule for c in candidates if c.offer.rule}
    if not rules:
        return {}
    leaves = [leaf for rule in rules.values() for leaf in conditions(rule)]
    types: frozenset[str] = frozenset()
    if any(isinstance(leaf, HasIdentifier) for leaf in leaves):
        types = frozenset((await stores.identifiers.counts([profile.id])).get(profile.id, {}))
    events: list[EventFacts] = []
    if any(isinstance(leaf, EventCount) for leaf in leaves):
        events = [
            EventFacts(e["type"], e["timestamp"], e.get("properties") or {})
            for e in await _own_events(stores, profile)
        ]
    subject = Subject(profile.traits, profile.metrics or {}, types, events)
    return {offer: matches(rule, subject, now) for offer, rule in rules.items()}


async def _own_events(stores: Stores, profile: Profile) -> list[Document]:
    histories = await stores.events.histories(profile.family)
    return [e for docs in histories.values() for e in docs]


def _shown(responses: Sequence[Mapping[str, Any]]) -> dict[str, list[datetime]]:
    shown: dict[str, list[datetime]] = defaultdict(list)
    for response in responses:
        if response["response"] == "SHOWN":
            shown[response["offer_id"]].append(response["at"])
    return shown


def _declined(responses: Sequence[Mapping[str, Any]]) -> dict[str, datetime]:
    declined: dict[str, datetime] = {}
    for response in responses:
        if response["response"] == "DECLINED":
            offer = response["offer_id"]
            declined[offer] = max(response["at"], declined.get(offer, response["at"]))
    return declined


async def _explicit(
    stores: Stores, explicit: Sequence[Document], products: Mapping[str, Document]
) -> list[Candidate]:
    """Explicit offers, each with why this person may get it; a product offer only while
    its product is offerable, and with the product named."""
    named: dict[str, Any] = {}
    if any(doc.get("segments") for doc in explicit):  # names kept for a second, no read
        named = {segment.id: segment for segment in await all_segments(stores)}
    found = []
    for doc in explicit:
        sku = doc.get("sku")
        if sku and sku not in products:  # gone from the catalogue, or offerable: false
            continue
        found.append(
            Candidate(
                Offer.from_document(doc),
                _qualifies(doc, named),
                {"source": "offer"},
                products[sku]["name"] if sku else None,
            )
        )
    return found


def _qualifies(doc: Mapping[str, Any], named: Mapping[str, Any]) -> str:
    """The offer's name, and the eligibility that this person meets, in words."""
    said = doc.get("description") or doc["name"]
    why = []
    if doc.get("segments"):
        names = [named[s].name if s in named else s for s in doc["segments"]]
        why.append(f"in {' or '.join(names)}")
    if doc.get("rule"):
        why.append(describe(parse_rule(doc["rule"])))
    return f"{said.rstrip('.')}: {', and '.join(why)}." if why else f"{said.rstrip('.')}."


def _product_candidates(
    rules: Mapping[str, CoPurchaseRule],
    similar: Mapping[str, CoPurchaseRule],
    by_interest: Sequence[Document],
    products: Mapping[str, Document],
    weights: Mapping[str, float],
) -> list[Candidate]:
    found: list[Candidate] = []
    for source, triggered in (("co-purchase", rules), ("view-similarity", similar)):
        for sku, rule in triggered.items():
            if sku in products:
                p = products[sku]
                found.append(
                    Candidate(
                        product_offer(sku, p["name"], p["price"]),
                        f"{rule.sentence()}.",
                        {"source": source, **_rule_evidence(rule)},
                        p["name"],
                    )
                )
    for p in by_interest:
        if p["_id"] in products and p["_id"] not in rules and p["_id"] not in similar:
            weight = weights.get(p["category"], 0.0)
            found.append(
                Candidate(
                    product_offer(p["_id"], p["name"], p["price"]),
                    f"Shows interest in {p['category']} (weight {weight:.2f}).",
                    {"source": "interest", "category": p["category"], "weight": weight},
                    p["name"],
                )
            )
    return found


def _carted(found: Trail, now: datetime) -> str | None:
    """The last sku put in a cart in the last 30 days."""
    at = found.last_cart_at
    return found.last_cart_sku if at is not None and at >= now - timedelta(days=CART_DAYS) else None


def _compared(found: Trail, bought: set[str], now: datetime) -> str | None:
    """The most viewed sku of a category in which 3 or more products were viewed in the
    last 14 days, when nothing of that category was bought since."""
    since = now - timedelta(days=RECENT_VIEW_DAYS)
    views: dict[str, Counter[str]] = defaultdict(Counter)
    for view in found.recent_views:
        if view.at >= since:
            views[view.category or ""][view.sku] += 1
    for category, seen in sorted(views.items(), key=lambda kv: -sum(kv[1].values())):
        if category and len(seen) >= 3 and not set(seen) & bought:
            return min(seen, key=lambda sku: (-seen[sku], sku))
    return None


def _rule(doc: Mapping[str, Any]) -> CoPurchaseRule:
    return CoPurchaseRule(
        tuple(doc["antecedent"]),
        doc["consequent"],
        doc["count"],
        doc["antecedent_count"],
        doc["support"],
        doc["confidence"],
        doc["lift"],
        doc.get("source", "purchase"),
    )


def _rule_evidence(rule: CoPurchaseRule) -> dict[str, Any]:
    return {
        "antecedent": list(rule.antecedent),
        "consequent": rule.consequent,
        "count": rule.count,
        "antecedentCount": rule.antecedent_count,
        "support": rule.support,
        "confidence": rule.confidence,
        "lift": rule.lift,
    }
