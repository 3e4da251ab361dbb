"""Person.metrics over GraphQL: purchases and engagement at once, RFM and CLV once a model
is fitted and the base recomputed."""

import random
from datetime import UTC, datetime, timedelta
from typing import Any

from cdp.deps import Deps
from cdp.ingest import track
from tests.resolvers.graphql import execute, operation

NOW = datetime.now(UTC)


def purchase(customer: int, days_ago: int, total: float, number: int) -> dict[str, Any]:
    return {
        "messageId": f"c{customer}-o{number}",
        "type": "purchase",
        "channel": "WEB",
        "identifiers": [{"type": "customer_id", "value": f"C{customer}"}],
        "timestamp": (NOW - timedelta(days=days_ago)).isoformat(),
        "properties": {"orderId": f"c{customer}-o{number}", "total": total},
    }


async def metrics_of(deps: Deps, customer: str) -> Any:
    data, errors = await execute(
        deps, operation("PersonMetrics"), type="customer_id", value=customer
    )
    assert errors == []
    return data["personByIdentifier"]["metrics"]


async def test_metrics_of_a_customer_before_and_after_a_clv_fit(deps: Deps) -> None:
    rng = random.Random(3)
    events = [
        purchase(c, days, round(rng.uniform(10, 90), 2), n)
        for c in range(25)
        for n, days in enumerate(sorted(rng.sample(range(1, 300), rng.randint(1, 6)), reverse=True))
    ]
    events += [purchase(99, 40, 50.0, 0), purchase(99, 12, 70.0, 1)]
    events.append(
        {
            "type": "email_open",
            "channel": "EMAIL",
            "identifiers": [{"type": "customer_id", "value": "C99"}],
            "timestamp": NOW.isoformat(),
        }
    )
    await track(deps.stores, events, deps.limits)

    before = await metrics_of(deps, "C99")
    assert before["clv"] is None  # no model yet
    assert before["purchases"]["orders"] == 2
    assert before["purchases"]["revenue"] == 120.0
    assert before["purchases"]["averageOrderValue"] == 60.0
    assert before["purchases"]["daysSinceLastOrder"] == 12
    assert (before["purchases"]["purchases30d"], before["purchases"]["purchases90d"]) == (1, 2)
    assert before["engagement"]["emailsOpened"] == 1

    _, errors = await execute(deps, operation("FitClvModel"), timeUnit="DAYS")
    assert errors == []
    assert (await metrics_of(deps, "C99"))["clv"] is None  # profiles move on in bulk:
    report, errors = await execute(deps, operation("RecomputeSegments"))
    assert errors == []
    assert report["recomputeSegments"]["customers"] == 26
    after = await metrics_of(deps, "C99")
    assert (
        after["rfm"]["code"]
        == f"{after['rfm']['recency']}{after['rfm']['frequency']}{after['rfm']['monetary']}"
    )
    assert after["clv"]["tier"] in {"high", "medium", "low"}
    clv = after["clv"]
    assert 0 < clv["probabilityAlive"] <= 1
    assert clv["expectedPurchases90d"] > 0
    assert clv["expectedValue12m"] > 0


async def test_the_rfm_grid_counts_each_scored_customer_in_their_cell(deps: Deps) -> None:
    """Ten customers from a recent big spender to one who bought once long ago: after a
    recompute cuts the quintiles, every scored customer is in exactly one of 25 cells."""
    events = [
        purchase(c, days_ago=5 + 40 * c, total=20.0 + c, number=n)
        for c in range(10)
        for n in range(10 - c)
    ]
    await track(deps.stores, events, deps.limits, NOW)
    _, errors = await execute(deps, operation("RecomputeSegments"))
    assert errors == []
    data, errors = await execute(deps, operation("RfmGrid"))
    assert errors == []
    cells = data["rfmGrid"]
    assert len(cells) == 25
    assert (cells[0]["recency"], cells[0]["frequency"]) == (5, 1)
    assert sum(cell["persons"] for cell in cells) == 10
    [best] = [cell for cell in cells if (cell["recency"], cell["frequency"]) == (5, 5)]
    assert best["segment"] == "Champions"
    assert best["persons"] >= 1
