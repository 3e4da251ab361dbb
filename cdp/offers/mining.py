"""Rebuilding the co-purchase rules from every basket (``rebuildOfferModels``)."""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import datetime

from cdp.errors import BadUserInput
from cdp.offers.copurchase import mine_rules
from cdp.store import Stores

RULES_MODEL = "offer_rules"


@dataclass(frozen=True, slots=True)
class MiningReport:
    baskets: int
    rules: int
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
    baskets = await stores.events.baskets()
    rules = mine_rules(baskets, min_support_count, min_confidence)
    generation = now.strftime("%Y%m%d%H%M%S%f")
    await stores.products.replace_rules(
        [
            {
                "_id": f"{generation}:{rank}",
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
        ]
    )
    report = MiningReport(
        len(baskets),
        len(rules),
        min_support_count,
        min_confidence,
        round(time.perf_counter() - started, 3),
    )
    await stores.models.save(
        RULES_MODEL,
        {
            "baskets": report.baskets,
            "rules": report.rules,
            "min_support_count": min_support_count,
            "min_confidence": min_confidence,
            "built_at": now,
        },
    )
    return report
