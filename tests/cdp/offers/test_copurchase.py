"""Mining co-purchase rules: counts are exact, thresholds are counts of baskets."""

from cdp.offers.copurchase import mine_rules, offers_for

CAMPING = (
    [["tent", "mat", "stove"]] * 8 + [["tent", "mat"]] * 2 + [["tea"]] * 10 + [["tent", "tea"]]
)


def test_rules_carry_their_counts_and_read_as_a_sentence() -> None:
    rules = mine_rules(CAMPING, min_support_count=3, min_confidence=0.5)
    rule = next(r for r in rules if r.antecedent == ("mat", "tent") and r.consequent == "stove")
    assert (rule.count, rule.antecedent_count) == (8, 10)
    assert rule.confidence == 0.8
    assert rule.lift == round(8 * 21 / (10 * 8), 6)
    assert rule.sentence() == "80% of the 10 orders with mat and tent also had stove"


def test_a_rule_exactly_on_the_support_count_is_kept_and_one_below_is_not() -> None:
    baskets = [["a", "b"]] * 3 + [["a"]] * 4 + [["b"]] * 4
    assert any(r.count == 3 for r in mine_rules(baskets, 3, 0.1))
    assert mine_rules(baskets, 4, 0.1) == []


def test_a_person_gets_what_their_purchases_point_to_not_what_they_have() -> None:
    rules = mine_rules(CAMPING, 3, 0.5)
    offered = offers_for(rules, {"tent", "mat"})
    assert set(offered) == {"stove"}
    assert offered["stove"].antecedent == ("mat", "tent")  # the most specific of equals
    assert offers_for(rules, {"tent", "mat", "stove"}) == {}


def test_no_baskets_no_rules() -> None:
    assert mine_rules([], 1, 0.5) == []
    assert mine_rules([["only"]] * 5, 1, 0.5) == []


def test_fewer_baskets_than_a_rule_needs_give_no_rules() -> None:
    assert mine_rules([["mug", "tea"]], 20, 0.1) == []  # one basket, support count 20
    assert mine_rules([["mug", "tea"]] * 19, 20, 0.1) == []


def test_view_rules_speak_of_people_who_viewed() -> None:
    viewers = [["boot-a", "boot-b"]] * 6 + [["boot-a"]] * 2
    [rule] = [r for r in mine_rules(viewers, 3, 0.5, source="view") if r.consequent == "boot-b"]
    assert rule.sentence() == "75% of the 8 people who viewed boot-a also viewed boot-b"
