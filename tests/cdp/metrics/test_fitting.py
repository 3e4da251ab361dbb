"""CDNOW imported as purchase events, then fitted through the API: the published model."""

from datetime import datetime
from typing import Any

from cdp.deps import Deps
from cdp.ingest import track
from cdp.records import EventStatus
from tests.cdp.metrics.test_clv import CDNOW
from tests.resolvers.graphql import execute, operation


def cdnow_events() -> list[dict[str, Any]]:
    events: list[dict[str, Any]] = []
    for number, line in enumerate(CDNOW.read_text().splitlines()):
        customer, _, day, quantity, amount = line.split()
        events.append(
            {
                "messageId": f"cdnow-{number}",
                "type": "purchase",
                "channel": "WEB",
                "identifiers": [{"type": "customer_id", "value": customer}],
                "timestamp": datetime.strptime(day + "12", "%Y%m%d%H").isoformat() + "Z",
                "properties": {
                    "orderId": f"o{number}",
                    "total": float(amount),
                    "currency": "USD",
                    "quantity": int(quantity),
                },
            }
        )
    return events


async def test_cdnow_imported_as_purchases_fits_the_published_bg_nbd(deps: Deps) -> None:
    events = cdnow_events()
    for start in range(0, len(events), 1000):
        result = await track(deps.stores, events[start : start + 1000], deps.limits)
        assert result.count(EventStatus.ACCEPTED) == len(result.results)
    data, errors = await execute(
        deps, operation("FitClvModel"), asOf="1997-09-30T00:00:00Z", timeUnit="WEEKS"
    )
    assert errors == []
    model = data["fitClvModel"]
    assert model["customers"] == 2357
    assert (model["timeUnit"], model["asOf"]) == ("WEEKS", "1997-09-30T00:00:00+00:00")
    published = {"r": 0.243, "alpha": 4.414, "a": 0.793, "b": 2.426}
    assert {k: f"{model[k]:.2g}" for k in published} == {
        k: f"{v:.2g}" for k, v in published.items()
    }
    assert round(model["logLikelihood"]) == -9582
    stored, _ = await execute(deps, operation("ClvModel"))
    assert stored["clvModel"]["r"] == model["r"]
    assert stored["clvModel"]["customers"] == 2357
