"""Ranking: eligibility before score, every suppression with its reason, learning from
responses, and exploration that is repeatable with a seed."""

import random
from datetime import UTC, datetime, timedelta

from cdp.offers.definitions import Candidate, Offer, OfferKind, product_offer
from cdp.offers.policy import OfferPolicy
from cdp.offers.ranking import Facts, prior_of, probability, rank, send_time

NOW = datetime(2026, 6, 30, 12, tzinfo=UTC)
POLICY = OfferPolicy(exploration=0.0)


def facts(**changes: object) -> Facts:
    base: dict[str, object] = {
        "segments": frozenset({"lapsed_90d"}),
        "bought": frozenset({"TENT-1"}),
        "consented_channels": frozenset({"EMAIL", "SMS"}),
        "preferred_channel": "SMS",
        "most_active_hour": 19,
    }
    base.update(changes)
    return Facts(**base)  # type: ignore[arg-type]


def candidate(offer: Offer) -> Candidate:
    return Candidate(offer, f"because {offer.id}", {})


def test_score_is_probability_times_value_and_the_channel_is_the_preferred_consented_one() -> None:
    stove = candidate(product_offer("STOVE-2", "Camping stove", 60.0))
    mug = candidate(product_offer("MUG-1", "Mug", 8.0))
    chosen, _, _ = rank([mug, stove], facts(), {}, "none", POLICY, 3, None, random.Random(1), NOW)
    assert [c.candidate.offer.id for c in chosen] == ["product:STOVE-2", "product:MUG-1"]
    assert chosen[0].score == round(0.05 * 60.0, 4)  # the prior: 1 in 20
    assert chosen[0].channel == "SMS"
    assert chosen[0].send_at == NOW.replace(hour=19, minute=0)


def test_every_left_out_candidate_says_why() -> None:
    candidates = [
        candidate(product_offer("TENT-1", "Tent", 200.0)),
        candidate(Offer("vip", "VIP", OfferKind.SERVICE, 10.0, segments=("rfm_champions",))),
        candidate(
            Offer("old", "Old", OfferKind.DISCOUNT, 10.0, valid_until=NOW - timedelta(days=1))
        ),
        candidate(
            Offer("app", "App only", OfferKind.CONTENT, 10.0, channels=frozenset({"MOBILE_APP"}))
        ),
        candidate(
            Offer("capped", "Capped", OfferKind.DISCOUNT, 10.0, cap_per_person=2, cap_period_days=7)
        ),
        candidate(Offer("nope", "Declined", OfferKind.DISCOUNT, 10.0)),
    ]
    seen = facts(
        shown={"capped": [NOW - timedelta(days=1), NOW - timedelta(days=2)]},
        declined={"nope": NOW - timedelta(days=3)},
    )
    chosen, suppressed, _ = rank(
        candidates, seen, {}, "none", POLICY, 3, None, random.Random(1), NOW
    )
    assert chosen == []
    reasons = {s.candidate.offer.id: s.why for s in suppressed}
    assert reasons == {
        "product:TENT-1": "already bought TENT-1",
        "vip": "not in any of the offer's segments (rfm_champions)",
        "old": "the offer ended on 2026-06-29",
        "app": "no channel that the person consented to and the offer may use",
        "capped": "shown 2 times in 7 days (cap 2)",
        "nope": "declined on 2026-06-27; not shown again for 30 days",
    }


def test_responses_sharpen_the_estimate() -> None:
    assert probability(None, POLICY) == 0.05
    assert probability({"shown": 80, "accepted": 39}, POLICY) == 0.4
    assert probability({"accepted": 3, "declined": 1}, POLICY) == 4 / 24  # shown implied


def test_a_fallback_is_offered_only_when_nothing_else_is() -> None:
    fallback = candidate(Offer("newsletter", "Newsletter", OfferKind.CONTENT, 1.0, fallback=True))
    stove = candidate(product_offer("STOVE-2", "Camping stove", 60.0))
    chosen, _, _ = rank(
        [fallback, stove], facts(), {}, "none", POLICY, 3, None, random.Random(1), NOW
    )
    assert [c.candidate.offer.id for c in chosen] == ["product:STOVE-2"]
    chosen, _, _ = rank([fallback], facts(), {}, "none", POLICY, 3, None, random.Random(1), NOW)
    assert [c.candidate.offer.id for c in chosen] == ["newsletter"]


def test_an_exploring_answer_is_a_thompson_draw_repeatable_with_its_seed() -> None:
    """Ten items of near value and no responses: a draw can show any of them, each with
    the probability it had; the same seed draws the same answer."""
    many = [candidate(product_offer(f"S{i}", f"Item {i}", 100.0 - i)) for i in range(10)]
    always = OfferPolicy(exploration=1.0)
    first, _, _ = rank(many, facts(), {}, "none", always, 3, None, random.Random("seed"), NOW)
    again, _, _ = rank(many, facts(), {}, "none", always, 3, None, random.Random("seed"), NOW)
    assert [c.candidate.offer.id for c in first] == [c.candidate.offer.id for c in again]
    assert len(first) == 3
    assert all(0 < c.propensity < 1 for c in first)  # nobody was certain to be shown
    greedy, _, _ = rank(many, facts(), {}, "none", POLICY, 3, None, random.Random("seed"), NOW)
    assert [c.candidate.offer.id for c in greedy] == ["product:S0", "product:S1", "product:S2"]
    assert [c.propensity for c in greedy] == [1.0, 1.0, 1.0]  # no exploration: certain


def test_the_send_time_is_the_next_most_active_hour() -> None:
    assert send_time(9, NOW) == (NOW + timedelta(days=1)).replace(hour=9, minute=0)
    assert send_time(None, NOW) == NOW


def rule_candidate(sku: str, together: int, seen: int, *after: str) -> Candidate:
    """A co-purchase candidate: of ``seen`` baskets holding ``after``, ``together`` also
    held ``sku`` (the grocery shape: citrus fruit and vegetables, then root vegetables)."""
    evidence = {
        "source": "co-purchase",
        "antecedent": list(after),
        "consequent": sku,
        "count": together,
        "antecedentCount": seen,
        "confidence": together / seen,
    }
    return Candidate(product_offer(sku, sku, 10.0), f"{sku} rule", evidence)


def test_before_any_response_the_stronger_rule_ranks_first_whatever_the_name() -> None:
    """Same price, no responses yet: 85% of 200 baskets beats 28% of 200, and a
    best-seller with no rule behind it comes last, although 'bottled beer' sorts first."""
    beer = Candidate(product_offer("bottled beer", "bottled beer", 10.0), "best seller", {})
    strong = rule_candidate("root vegetables", 170, 200, "citrus fruit", "other vegetables")
    weak = rule_candidate("yogurt", 56, 200, "citrus fruit")
    chosen, _, _ = rank(
        [beer, weak, strong], facts(), {}, "none", POLICY, 3, None, random.Random(1), NOW
    )
    assert [r.candidate.offer.sku for r in chosen] == [
        "root vegetables",
        "yogurt",
        "bottled beer",
    ]
    assert chosen[0].probability == round((170 + 1) / (200 + 20), 4)  # shrunk a little
    assert chosen[0].prior is not None
    assert chosen[0].prior.basis == (
        "85% of 200 baskets with citrus fruit and other vegetables also had root vegetables"
    )


def test_a_rule_seen_in_few_baskets_is_shrunk_toward_the_base_rate() -> None:
    few = prior_of(rule_candidate("kefir", 3, 3, "rye bread"), POLICY)  # 100% of 3 baskets
    many = prior_of(rule_candidate("butter", 150, 300, "rye bread"), POLICY)  # 50% of 300
    assert few.mean == (3 + 1) / (3 + 20)
    assert many.mean > few.mean  # the well-supported rule is believed more


def test_equal_scores_go_to_the_stronger_evidence_not_the_name() -> None:
    thin = rule_candidate("apples", 10, 20, "pears")  # same confidence, 20 baskets
    thick = rule_candidate("zucchini", 100, 200, "pears")  # 200 baskets
    thick_prior, thin_prior = prior_of(thick, POLICY), prior_of(thin, POLICY)
    assert thick_prior.evidence > thin_prior.evidence
    chosen, _, _ = rank([thin, thick], facts(), {}, "none", POLICY, 2, None, random.Random(1), NOW)
    assert chosen[0].candidate.offer.sku == "zucchini"


def test_one_product_is_offered_once_with_every_reason() -> None:
    rule = rule_candidate("LAMP-1", 50, 100, "TENT-2P")
    alert = Candidate(
        Offer(
            id="lifecycle:low_stock:LAMP-1",
            name="Low stock",
            kind=OfferKind.PRODUCT,
            value=10.0,
            sku="LAMP-1",
        ),
        "Head lamp on their wishlist has only 2 left.",
        {"source": "lifecycle"},
    )
    chosen, _, _ = rank([alert, rule], facts(), {}, "none", POLICY, 5, None, random.Random(1), NOW)
    assert [r.candidate.offer.id for r in chosen] == ["product:LAMP-1"]
    assert chosen[0].candidate.evidence["alsoBecause"] == [
        "Head lamp on their wishlist has only 2 left."
    ]
    assert chosen[0].candidate.evidence["alsoOffers"] == ["lifecycle:low_stock:LAMP-1"]
