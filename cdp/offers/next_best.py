"""Next-best-offer for one person: read what is known, make candidates, rank them.

Reads only this person's facts plus the rules and products they touch: the profile (kept
current by each event), their events, segments, consents and responses, the co-purchase
rules whose left side holds something they bought, and the products involved.
"""

from __future__ import annotations

import random
from collections import Counter, defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from cdp.consent import consents_of, has_consent
from cdp.errors import NotFound
from cdp.models import Channel
from cdp.offers.copurchase import CoPurchaseRule, offers_for
from cdp.offers.definitions import Offer, lifecycle_offer, product_offer
from cdp.offers.policy import OfferPolicy
from cdp.offers.ranking import Candidate, Facts, Recommendation, Suppressed, rank
from cdp.profiles import Profile, find_person
from cdp.segments.evaluate import EventFacts, Subject, matches
from cdp.segments.rules import HasIdentifier, conditions
from cdp.store import Stores
from cdp.store.database import Document

INTEREST_PRODUCTS = 20  # catalogue products considered per answer from the person's interests
COMPARE_DAYS = 14


@dataclass(frozen=True, slots=True)
class OfferAnswer:
    recommendations: list[Recommendation]
    suppressed: list[Suppressed]


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
    interests = [i["topic"] for i in metrics.get("interests") or []][:5]
    histories = await stores.events.histories(profile.family)
    memberships = await stores.memberships.of_persons([profile.id])
    decisions = await consents_of(stores, profile.family)
    responses = await stores.offers.responses_of(
        profile.family, now - timedelta(days=max(policy.decline_days, 3650))
    )
    explicit = await stores.offers.active()
    events = [e for docs in histories.values() for e in docs]
    bought, viewed = _bought(events), _viewed(events)
    held = set(memberships.get(profile.id, {}))
    touched = await stores.products.rules_from(bought | viewed)  # both kinds in one read
    purchase_rules = [d for d in touched if d.get("source", "purchase") == "purchase"]
    view_rules = [d for d in touched if d.get("source") == "view"]
    by_interest = await stores.products.in_categories(interests, INTEREST_PRODUCTS)
    rules = offers_for([_rule(doc) for doc in purchase_rules], bought)
    similar = {
        sku: rule
        for sku, rule in offers_for([_rule(doc) for doc in view_rules], viewed | bought).items()
        if sku not in rules
    }
    wished = list(metrics.get("wishlist") or [])
    carted = _last_sku(events, "add_to_cart", now - timedelta(days=30))
    compared = _compared(events, bought, now)
    skus = (
        set(rules)
        | set(similar)
        | set(wished)
        | {s for s in (carted, compared) if s}
        | {p["_id"] for p in by_interest}
    )
    found = await stores.products.get_many(skus)
    products = {sku: doc for sku, doc in found.items() if doc.get("offerable", True)}
    candidates = _product_candidates(rules, similar, by_interest, products)
    candidates += [
        Candidate(
            Offer.from_document(doc), doc.get("description") or doc["name"], {"source": "offer"}
        )
        for doc in explicit
    ]
    candidates += _lifecycle(metrics, held, products, wished, carted, compared, policy)
    segment_key = metrics.get("rfm_segment") or "none"
    stats = await stores.offers.stats(
        f"{c.offer.id}|{k}" for c in candidates for k in (segment_key, "*")
    )

    rules_used = [c.offer.rule for c in candidates if c.offer.rule is not None]
    types: frozenset[str] = frozenset()  # read only when a rule asks about identifiers
    if any(isinstance(leaf, HasIdentifier) for rule in rules_used for leaf in conditions(rule)):
        types = frozenset((await stores.identifiers.counts([profile.id])).get(profile.id, {}))
    subject = Subject(
        profile.traits,
        metrics,
        types,
        [EventFacts(e["type"], e["timestamp"], e.get("properties") or {}) for e in events],
    )
    consented = frozenset(c.value for c in Channel if has_consent(decisions, "marketing", c))
    facts = Facts(
        segments=frozenset(held),
        bought=frozenset(bought),
        consented_channels=consented,
        preferred_channel=metrics.get("preferred_channel"),
        most_active_hour=metrics.get("most_active_hour"),
        shown=_shown(responses),
        declined=_declined(responses),
        rule_matches={
            c.offer.id: matches(c.offer.rule, subject, now) for c in candidates if c.offer.rule
        },
    )
    seed = policy.exploration_seed
    rng = (
        random.Random(f"{seed}:{profile.id}:{now.date()}") if seed is not None else random.Random()
    )
    chosen, suppressed = rank(
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
    return OfferAnswer(chosen, suppressed)


def _shown(responses: Sequence[Document]) -> dict[str, list[datetime]]:
    shown: dict[str, list[datetime]] = defaultdict(list)
    for response in responses:
        if response["response"] == "SHOWN":
            shown[response["offer_id"]].append(response["at"])
    return shown


def _declined(responses: Sequence[Document]) -> dict[str, datetime]:
    declined: dict[str, datetime] = {}
    for response in responses:
        if response["response"] == "DECLINED":
            offer = response["offer_id"]
            declined[offer] = max(response["at"], declined.get(offer, response["at"]))
    return declined


def _product_candidates(
    rules: Mapping[str, CoPurchaseRule],
    similar: Mapping[str, CoPurchaseRule],
    by_interest: Sequence[Document],
    products: Mapping[str, Document],
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
            found.append(
                Candidate(
                    product_offer(p["_id"], p["name"], p["price"]),
                    f"Shows interest in {p['category']}.",
                    {"source": "interest", "category": p["category"]},
                    p["name"],
                )
            )
    return found


def _lifecycle(
    metrics: Mapping[str, Any],
    segments: set[str],
    products: Mapping[str, Document],
    wished: list[str],
    carted: str | None,
    compared: str | None,
    policy: OfferPolicy,
) -> list[Candidate]:
    """The lifecycle offers from the seeds, each with the condition that triggered it."""
    basket = metrics.get("average_order_value") or policy.lifecycle_value
    found = []
    if "lapsed_90d" in segments:
        days = metrics.get("days_since_last_order")
        found.append(
            Candidate(
                lifecycle_offer("win_back", basket),
                f"No order for {days} days: a win-back discount may bring them back.",
                {"source": "lifecycle", "segment": "lapsed_90d", "daysSinceLastOrder": days},
            )
        )
    if "rfm_champions" in segments:
        found.append(
            Candidate(
                lifecycle_offer("loyalty", basket),
                "One of the best customers (RFM Champions): thank them with a loyalty reward.",
                {"source": "lifecycle", "segment": "rfm_champions", "rfm": metrics.get("rfm_code")},
            )
        )
    days = metrics.get("days_to_birthday")
    if days is not None and days <= 7:
        found.append(
            Candidate(
                lifecycle_offer("birthday", basket),
                f"Birthday in {days} days: send a birthday voucher.",
                {"source": "lifecycle", "daysToBirthday": days},
            )
        )
    for sku in wished:
        product = products.get(sku)
        stock = product.get("stock") if product else None
        if product and stock is not None and stock < policy.low_stock:
            found.append(
                Candidate(
                    lifecycle_offer("low_stock", product["price"], sku),
                    f"{product['name']} on their wishlist has only {stock} left.",
                    {"source": "lifecycle", "sku": sku, "stock": stock},
                    product["name"],
                )
            )
    if carted and metrics.get("cart_abandoned") and carted in products:
        product = products[carted]
        found.append(
            Candidate(
                lifecycle_offer("cart_reminder", product["price"], carted),
                f"Left {product['name']} in the cart without buying.",
                {"source": "lifecycle", "sku": carted},
                product["name"],
            )
        )
    if compared and compared in products:
        product = products[compared]
        found.append(
            Candidate(
                lifecycle_offer("compare_upsell", product["price"], compared),
                f"Comparing several {product.get('category')} products; "
                f"{product['name']} is the one they looked at most.",
                {"source": "lifecycle", "sku": compared, "category": product.get("category")},
                product["name"],
            )
        )
    if "discount_seekers" in segments:
        found.append(
            Candidate(
                lifecycle_offer("exclusive_discount", basket),
                f"Used a discount code on {metrics.get('discount_share', 0):.0%} of orders: "
                "an exclusive discount suits them.",
                {"source": "lifecycle", "segment": "discount_seekers"},
            )
        )
    return found


def _bought(events: Sequence[Document]) -> set[str]:
    skus: set[str] = set()
    for event in events:
        if event["type"] != "purchase":
            continue
        items = (event.get("properties") or {}).get("items")
        if isinstance(items, list):
            skus.update(
                i["sku"] for i in items if isinstance(i, dict) and isinstance(i.get("sku"), str)
            )
    return skus


def _viewed(events: Sequence[Document]) -> set[str]:
    return {
        e["properties"]["sku"]
        for e in events
        if e["type"] == "product_view" and isinstance((e.get("properties") or {}).get("sku"), str)
    }


def _last_sku(events: Sequence[Document], kind: str, since: datetime) -> str | None:
    found = [
        (e["timestamp"], e["properties"]["sku"])
        for e in events
        if e["type"] == kind
        and e["timestamp"] >= since
        and isinstance((e.get("properties") or {}).get("sku"), str)
    ]
    return max(found)[1] if found else None


def _compared(events: Sequence[Document], bought: set[str], now: datetime) -> str | None:
    """The most viewed sku of a category in which 3 or more products were viewed in the
    last 14 days, when nothing of that category was bought since."""
    since = now - timedelta(days=COMPARE_DAYS)
    views: dict[str, Counter[str]] = defaultdict(Counter)
    for e in events:
        props = e.get("properties") or {}
        if (
            e["type"] == "product_view"
            and e["timestamp"] >= since
            and isinstance(props.get("sku"), str)
        ):
            views[str(props.get("category") or "")][props["sku"]] += 1
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
