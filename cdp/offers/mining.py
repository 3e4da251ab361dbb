"""Rebuilding the co-purchase rules from every basket, and the view-similarity rules from
the products each person viewed (``rebuildOfferModels``): the second kind covers people
who have not bought yet. Each product's number of baskets is stored with it too, so the
products offered from a person's interest categories are the best sellers."""

from __future__ import annotations

import time
import uuid
from collections import Counter
from dataclasses import dataclass
from datetime import datetime

from cdp.errors import BadUserInput
from cdp.offers.copurchase import CoPurchaseRule, mine_rules
from cdp.store import Stores

RULES_MODEL = "offer_rules"


@dataclass(frozen=True, slots=True)
class MiningReport:
    baskets: int
    rules: int
    viewers: int
    view_rules: int
    min_support_count: int
    min_confidence: float
    seconds: float


async def rebuild_offer_models(
    stores: Stores, min_support_count: int, min_confidence: float, now: datetime
) -> MiningReport:
    if min_support_count < 1:
        raise BadUserInput("minSupportCount: at least 1 basket")
    if not 0 < min_confidence <= 1:
        raise BadUserInput("minConfidence: a share above 0 and at most 1")
    started = time.perf_counter()
    # the time says when; the suffix keeps two rebuilds at one instant (a fixed clock, two
    # instances) from writing the same rule ids
    generation = f"{now.strftime('%Y%m%d%H%M%S%f')}-{uuid.uuid4().hex[:8]}"
    baskets = await stores.events.baskets()
    rules = mine_rules(baskets, min_support_count, min_confidence)
    await stores.products.set_sales(Counter(sku for basket in baskets for sku in set(basket)))
    await _store(stores, "purchase", generation, rules)
    viewers = await stores.events.view_sets()
    view_rules = mine_rules(viewers, min_support_count, min_confidence, source="view")
    await _store(stores, "view", generation, view_rules)
    report = MiningReport(
        len(baskets),
        len(rules),
        len(viewers),
        len(view_rules),
        min_support_count,
        min_confidence,
        round(time.perf_counter() - started, 3),
    )
    await stores.models.save(
        RULES_MODEL,
        {
            "baskets": report.baskets,
            "rules": report.rules,
            "viewers": report.viewers,
            "view_rules": report.view_rules,
            "min_support_count": min_support_count,
            "min_confidence": min_confidence,
            "built_at": now,
        },
    )
    return report


async def _store(stores: Stores, source: str, generation: str, rules: list[CoPurchaseRule]) -> None:
    await stores.products.replace_rules(
        source,
        generation,
        [
            {
                "_id": f"{source}:{generation}:{rank}",
                "source": source,
                "generation": generation,
                "rank": rank,
                "antecedent": list(rule.antecedent),
                "consequent": rule.consequent,
                "count": rule.count,
                "antecedent_count": rule.antecedent_count,
                "support": rule.support,
                "confidence": rule.confidence,
                "lift": rule.lift,
            }
            for rank, rule in enumerate(rules)
        ],
    )
