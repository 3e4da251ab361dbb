"""Each identifier's first and last seen, as a person's history shows them."""

from datetime import UTC, datetime

from cdp.profile.sightings import merged, sightings_of, widened


def at(day: int, hour: int = 10) -> datetime:
    return datetime(2026, 3, day, hour, tzinfo=UTC)


EMAIL = {"type": "email", "value": "ana.silva@example.com"}
COOKIE = {"type": "cookie_id", "value": "ck-7f3a"}
PHONE = {"type": "phone", "value": "+442079460958"}


def test_each_identifier_spans_the_events_that_carried_it_whatever_their_order() -> None:
    history = [
        {"type": "page_view", "channel": "WEB", "timestamp": at(5), "identifiers": [EMAIL, COOKIE]},
        {"type": "call", "channel": "PHONE", "timestamp": at(2), "identifiers": [PHONE]},
        {"type": "purchase", "channel": "STORE", "timestamp": at(9), "identifiers": [EMAIL]},
        {"type": "segment_entered", "channel": "SYSTEM", "timestamp": at(9, 11)},  # none
        {"type": "page_view", "channel": "WEB", "timestamp": at(3), "identifiers": [COOKIE]},
    ]
    assert sightings_of(history) == [
        {"key": "cookie_id:ck-7f3a", "first": at(3), "last": at(5)},
        {"key": "email:ana.silva@example.com", "first": at(5), "last": at(9)},
        {"key": "phone:+442079460958", "first": at(2), "last": at(2)},
    ]


def test_stored_bounds_are_widened_by_the_history_and_never_narrowed() -> None:
    stored = [
        {"_id": "email:ana.silva@example.com", "first_seen": at(1), "last_seen": at(1)},
        {"_id": "cookie_id:ck-7f3a", "first_seen": at(3), "last_seen": at(12)},  # a later event
        {"_id": "phone:+442079460958", "first_seen": at(2), "last_seen": at(2)},  # not listed
    ]
    seen = [
        {"key": "cookie_id:ck-7f3a", "first": at(3), "last": at(5)},
        {"key": "email:ana.silva@example.com", "first": at(5), "last": at(9)},
    ]
    shown = widened(stored, seen)
    assert [(d["first_seen"], d["last_seen"]) for d in shown] == [
        (at(1), at(9)),  # the claim's first seen, the history's last
        (at(3), at(12)),  # the single event's later last seen stands
        (at(2), at(2)),
    ]
    assert stored[0]["last_seen"] == at(1)  # the documents read are left as they were


def test_a_single_events_spans_join_those_the_profile_kept() -> None:
    kept = [
        {"key": "cookie_id:ck-7f3a", "first": at(3), "last": at(5)},
        {"key": "email:ana.silva@example.com", "first": at(5), "last": at(9)},
    ]
    since_the_fold = sightings_of(
        [{"type": "page_view", "timestamp": at(12), "identifiers": [COOKIE, PHONE]}]
    )
    assert merged(kept, since_the_fold) == [
        {"key": "cookie_id:ck-7f3a", "first": at(3), "last": at(12)},
        {"key": "email:ana.silva@example.com", "first": at(5), "last": at(9)},
        {"key": "phone:+442079460958", "first": at(12), "last": at(12)},
    ]
