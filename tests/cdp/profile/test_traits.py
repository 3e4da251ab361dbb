from datetime import UTC, datetime

from cdp.profile.traits import replaced_values

EARLY, LATE = datetime(2026, 1, 1, tzinfo=UTC), datetime(2026, 3, 1, tzinfo=UTC)


def test_the_older_value_of_a_disputed_trait_is_the_one_replaced() -> None:
    survivor = {
        "_id": "p1",
        "traits": {"city": "Porto", "gender": "f"},
        "trait_times": {"city": EARLY, "gender": EARLY},
    }
    absorbed = {
        "_id": "p2",
        "traits": {"city": "Lisbon", "gender": "f", "vip": True},
        "trait_times": {"city": LATE, "gender": LATE, "vip": LATE},
    }
    assert replaced_values(survivor, absorbed) == {
        "city": {"value": "Porto", "set_at": EARLY, "person_id": "p1"}
    }


def test_on_a_tie_the_survivor_keeps_its_value() -> None:
    survivor = {"_id": "p1", "traits": {"city": "Porto"}, "trait_times": {"city": EARLY}}
    absorbed = {"_id": "p2", "traits": {"city": "Faro"}, "trait_times": {"city": EARLY}}
    assert replaced_values(survivor, absorbed) == {
        "city": {"value": "Faro", "set_at": EARLY, "person_id": "p2"}
    }
