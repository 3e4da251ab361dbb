"""The basket back-test: a Groceries-style file in, hit rates of two recommenders out."""

from cdp.offers.backtest import evaluate, from_lines, synthetic


def test_a_basket_file_trains_on_its_first_80_percent_and_hides_each_later_last_item() -> None:
    lines = [
        "citrus fruit,semi-finished bread,margarine,ready soups",
        "tropical fruit,yogurt,coffee",
        "",  # blank lines are not baskets
        "whole milk",
        "pip fruit,yogurt,cream cheese ,meat spreads",
        "other vegetables, whole milk,condensed milk,long life bakery product",
    ]
    train, cases = from_lines(lines)
    assert len(train) == 4  # 80% of 5 baskets
    assert train[3] == frozenset({"pip fruit", "yogurt", "cream cheese", "meat spreads"})
    [case] = cases
    assert case.hidden == {"long life bakery product"}
    assert case.history == {"other vegetables", "whole milk", "condensed milk"}


def test_rules_beat_popularity_where_baskets_have_structure() -> None:
    train, cases = synthetic(customers=600, seed=11)
    scores = evaluate(train, cases, min_count=10, min_confidence=0.1)
    assert scores["co-purchase"][3][0] > scores["popularity"][3][0] + 0.1
    assert scores["rules"][0][0] > 0
