"""The CLV models against the CDNOW sample and the parameters published for it."""

from collections import defaultdict
from datetime import date, datetime
from pathlib import Path

import pytest

from cdp.metrics.clv import CustomerSummary, TimeUnit, fit_bg_nbd, fit_gamma_gamma, summarise

CDNOW = Path(__file__).resolve().parents[2] / "data" / "cdnow_sample.txt"
CALIBRATION_END = date(1997, 9, 30)  # the end of the 39-week calibration period


def cdnow_purchases() -> dict[str, list[tuple[date, float]]]:
    purchases: dict[str, list[tuple[date, float]]] = defaultdict(list)
    for line in CDNOW.read_text().splitlines():
        customer, _, day, _, amount = line.split()
        purchases[customer].append((datetime.strptime(day, "%Y%m%d").date(), float(amount)))
    return purchases


def cdnow_summaries() -> list[CustomerSummary]:
    found = [summarise(p, CALIBRATION_END, TimeUnit.WEEKS) for p in cdnow_purchases().values()]
    return [s for s in found if s is not None]


def test_a_customer_is_summarised_with_purchases_counted_per_day() -> None:
    summary = summarise(
        [
            (date(2026, 1, 1), 10.0),
            (date(2026, 1, 1), 5.0),
            (date(2026, 1, 15), 30.0),
            (date(2026, 1, 29), 50.0),
            (date(2026, 3, 1), 99.0),
        ],
        as_of=date(2026, 2, 12),
        unit=TimeUnit.WEEKS,
    )
    assert summary == CustomerSummary(frequency=2, recency=4.0, age=6.0, repeat_spend=40.0)
    assert summarise([(date(2026, 3, 1), 5.0)], date(2026, 2, 1), TimeUnit.DAYS) is None


def test_bg_nbd_on_cdnow_matches_the_published_parameters() -> None:
    customers = cdnow_summaries()
    assert len(customers) == 2357
    model = fit_bg_nbd(customers)
    published = {"r": 0.243, "alpha": 4.414, "a": 0.793, "b": 2.426}
    for name, value in published.items():
        assert getattr(model, name) == pytest.approx(value, rel=0.05), name
        assert f"{getattr(model, name):.2g}" == f"{value:.2g}", name  # two significant figures
    assert model.log_likelihood == pytest.approx(-9582.4, abs=1)  # as published


def test_bg_nbd_predictions_behave_as_the_paper_describes() -> None:
    model = fit_bg_nbd(cdnow_summaries())
    loyal = CustomerSummary(frequency=2, recency=30.43, age=38.86, repeat_spend=0)
    lapsed = CustomerSummary(frequency=2, recency=5.0, age=38.86, repeat_spend=0)
    assert model.probability_alive(loyal) > model.probability_alive(lapsed)
    assert model.expected_purchases(loyal, 39) > model.expected_purchases(lapsed, 39) > 0
    # The worked example of the lifetimes documentation (x=2, t_x=30.43, T=38.86): 1.226.
    assert model.expected_purchases(loyal, 39) == pytest.approx(1.226, abs=0.01)


def test_gamma_gamma_on_cdnow_shrinks_spend_towards_the_population() -> None:
    model = fit_gamma_gamma(cdnow_summaries())
    # The values the lifetimes documentation reports for the same data.
    assert (f"{model.p:.3g}", f"{model.q:.3g}", f"{model.gamma:.4g}") == ("6.25", "3.74", "15.44")
    big = CustomerSummary(frequency=1, recency=10, age=38, repeat_spend=200)
    steady = CustomerSummary(frequency=10, recency=30, age=38, repeat_spend=200)
    population = model.p * model.gamma / (model.q - 1)
    assert population < model.expected_spend(big) < model.expected_spend(steady) < 200
