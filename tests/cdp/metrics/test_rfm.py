import pytest

from cdp.metrics.rfm import SEGMENT_NAMES, Rfm, boundaries, score

BASE = boundaries(
    recency_days=[1, 5, 10, 20, 30, 60, 90, 120, 200, 365],
    frequency=[1, 1, 1, 2, 2, 3, 4, 6, 9, 15],
    monetary=[10, 20, 35, 50, 80, 120, 200, 300, 600, 1500],
)


def test_scores_follow_the_quintiles_of_the_base_recent_being_better() -> None:
    champion = score(days_since_last_order=2, orders=12, revenue=900, cuts=BASE)
    assert (champion.code, champion.segment) == ("555", "Champions")
    lost = score(days_since_last_order=400, orders=1, revenue=10, cuts=BASE)
    assert (lost.code, lost.segment) == ("111", "Lost")
    sleeping_big_spender = score(days_since_last_order=250, orders=10, revenue=1000, cuts=BASE)
    assert sleeping_big_spender.segment == "Can't Lose Them"


def test_every_cell_of_the_map_has_one_of_the_eleven_names() -> None:
    names = {SEGMENT_NAMES[r][f] for r in range(5) for f in range(5)}
    assert names == {
        "Champions",
        "Loyal",
        "Potential Loyalist",
        "New Customers",
        "Promising",
        "Need Attention",
        "About to Sleep",
        "At Risk",
        "Can't Lose Them",
        "Hibernating",
        "Lost",
    }
    assert Rfm(5, 1, 3).segment == "New Customers"
    assert Rfm(3, 3, 3).segment == "Need Attention"


def test_boundaries_need_a_base_to_cut() -> None:
    with pytest.raises(Exception, match="at least two"):
        boundaries([1], [1], [1])
