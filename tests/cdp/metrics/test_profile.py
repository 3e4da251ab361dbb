from datetime import UTC, datetime, timedelta

from cdp.metrics.profile import Interaction, engagement_metrics, purchase_metrics

NOW = datetime(2026, 6, 30, 12, tzinfo=UTC)


def at(days_ago: float, hour: int = 12) -> datetime:
    return (NOW - timedelta(days=days_ago)).replace(hour=hour)


def ana() -> list[Interaction]:
    return [
        Interaction("purchase", "WEB", at(400), {"orderId": "o1", "total": 120.0}),
        Interaction(
            "purchase",
            "STORE",
            at(80),
            {"orderId": "o2", "total": 60.0, "discountCode": "SPRING10"},
        ),
        Interaction("purchase", "MOBILE_APP", at(10), {"orderId": "o3", "total": 30.0}),
        Interaction("refund", "WEB", at(5), {"orderId": "o3", "total": 30.0}),
        Interaction("purchase", "WEB", at(2), {"orderId": "o4", "total": "not a number"}),
        Interaction("email_sent", "EMAIL", at(20, 9), {"campaign": "spring"}),
        Interaction("email_sent", "EMAIL", at(9, 9), {"campaign": "summer"}),
        Interaction("email_open", "EMAIL", at(9, 20), {"campaign": "summer"}),
        Interaction("email_click", "EMAIL", at(9, 20), {"campaign": "summer"}),
        Interaction("page_view", "WEB", at(3, 20), {"url": "/pricing"}),
    ]


def test_purchase_metrics_count_orders_net_of_refunds() -> None:
    metrics = purchase_metrics(ana(), NOW)
    assert metrics.orders == 4
    assert metrics.revenue == 180.0  # 120 + 60 + 30 - 30, the malformed total counts as 0
    assert metrics.average_order_value == 45.0
    assert (metrics.purchases_30d, metrics.purchases_90d, metrics.purchases_365d) == (2, 3, 3)
    assert metrics.days_since_last_order == 2
    assert metrics.first_order_at == at(400)
    assert metrics.discount_share == 0.25


def test_purchase_windows_include_their_first_moment_and_a_clock_ahead() -> None:
    """A purchase exactly 30 days old is in the 30-day count, one a second older is not;
    one dated a minute ahead of the clock (a till whose clock runs fast) is in every
    window."""
    bought = [
        Interaction("purchase", "STORE", NOW - timedelta(days=30), {"total": 10.0}),
        Interaction("purchase", "STORE", NOW - timedelta(days=30, seconds=1), {"total": 10.0}),
        Interaction("purchase", "STORE", NOW - timedelta(days=90), {"total": 10.0}),
        Interaction("purchase", "STORE", NOW + timedelta(minutes=1), {"total": 10.0}),
    ]
    metrics = purchase_metrics(bought, NOW)
    assert (metrics.purchases_30d, metrics.purchases_90d, metrics.purchases_365d) == (2, 4, 4)


def test_a_person_who_never_bought_has_no_averages() -> None:
    metrics = purchase_metrics([Interaction("page_view", "WEB", at(1), {})], NOW)
    assert (
        metrics.orders,
        metrics.revenue,
        metrics.average_order_value,
        metrics.days_since_last_order,
    ) == (0, 0.0, None, None)


def test_engagement_rates_active_hour_and_preferred_channel() -> None:
    metrics = engagement_metrics(ana())
    assert (metrics.emails_sent, metrics.emails_opened, metrics.emails_clicked) == (2, 1, 1)
    assert (metrics.open_rate, metrics.click_rate) == (0.5, 0.5)
    assert metrics.last_engaged_at == at(9, 20)
    assert metrics.most_active_hour == 12  # five events at noon, three at 20:00
    assert metrics.preferred_channel == "EMAIL"  # four emails against three on the web
    assert (
        engagement_metrics(ana(), consented_channels=frozenset({"WEB", "STORE"})).preferred_channel
        == "WEB"
    )
