"""Each lifecycle offer of the registry, fired by the condition it names and not
without it: one pure case per offer, read straight off the situation a person is in."""

from __future__ import annotations

from dataclasses import replace

import pytest

from cdp.offers.definitions import OfferKind
from cdp.offers.lifecycle import BY_NAME, REGISTRY, Situation, lifecycle_candidates

LAMP = {"name": "Head lamp", "price": 24.0, "category": "outdoor", "stock": 2}
TENT = {"name": "Two-person tent", "price": 189.0, "category": "outdoor", "stock": 40}
NOBODY = Situation(metrics={}, segments=frozenset(), products={"LAMP-1": LAMP, "TENT-2P": TENT})

# name -> (a situation that fires it, what the reason says, the offer's value)
FIRES: dict[str, tuple[Situation, str, float]] = {
    "win_back": (
        replace(
            NOBODY,
            segments=frozenset({"lapsed_90d"}),
            metrics={"days_since_last_order": 140, "average_order_value": 61.0},
        ),
        "No order for 140 days",
        61.0,
    ),
    "loyalty": (
        replace(NOBODY, segments=frozenset({"rfm_champions"}), metrics={"rfm_code": "555"}),
        "RFM Champions",
        20.0,  # no basket yet: the default value
    ),
    "birthday": (replace(NOBODY, metrics={"days_to_birthday": 3}), "Birthday in 3 days", 20.0),
    "low_stock": (
        replace(NOBODY, wished=("LAMP-1", "TENT-2P")),
        "Head lamp on their wishlist has only 2 left",
        24.0,
    ),
    "cart_reminder": (
        replace(NOBODY, carted="TENT-2P", metrics={"cart_abandoned": True}),
        "Left Two-person tent in the cart",
        189.0,
    ),
    "compare_upsell": (
        replace(NOBODY, compared="TENT-2P"),
        "Comparing several outdoor products; Two-person tent",
        189.0,
    ),
    "exclusive_discount": (
        replace(NOBODY, segments=frozenset({"discount_seekers"}), metrics={"discount_share": 0.75}),
        "discount code on 75% of orders",
        20.0,
    ),
}
# name -> a situation one step short of firing it
SHORT: dict[str, Situation] = {
    "win_back": replace(NOBODY, metrics={"days_since_last_order": 140}),
    "loyalty": replace(NOBODY, segments=frozenset({"rfm_loyal"})),
    "birthday": replace(NOBODY, metrics={"days_to_birthday": 8}),
    "low_stock": replace(NOBODY, wished=("TENT-2P", "GONE-1")),
    "cart_reminder": replace(NOBODY, carted="TENT-2P", metrics={"cart_abandoned": False}),
    "compare_upsell": replace(NOBODY, compared="GONE-1"),  # not (or no longer) offerable
    "exclusive_discount": replace(NOBODY, metrics={"discount_share": 0.75}),
}


def test_every_registered_offer_has_a_case_that_fires_it_and_one_that_does_not() -> None:
    assert set(FIRES) == set(BY_NAME) == set(SHORT)
    assert len(REGISTRY) == len(BY_NAME)  # names are unique


@pytest.mark.parametrize("name", sorted(FIRES))
def test_the_condition_fires_the_offer_with_its_reason_and_value(name: str) -> None:
    situation, said, value = FIRES[name]
    [found] = BY_NAME[name].candidates(situation)
    assert found.offer.id.startswith(f"lifecycle:{name}")
    assert said in found.reason
    assert found.offer.value == value
    assert found.evidence["source"] == "lifecycle"
    if found.offer.kind is OfferKind.PRODUCT:
        assert found.offer.sku is not None
        assert found.offer.id == f"lifecycle:{name}:{found.offer.sku}"


@pytest.mark.parametrize("name", sorted(SHORT))
def test_one_step_short_it_does_not_fire(name: str) -> None:
    assert BY_NAME[name].candidates(SHORT[name]) == []


def test_nobody_in_particular_gets_no_lifecycle_offer() -> None:
    assert lifecycle_candidates(NOBODY) == []
