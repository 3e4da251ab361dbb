"""Every error a client sees carries a code that says what to do about it."""

from __future__ import annotations

from graphql import GraphQLError

from cdp.live import Lagging, Missed
from resolvers.errors import classify


def test_a_subscription_the_feed_dropped_is_told_to_subscribe_again_not_an_internal_error() -> None:
    for reason in (
        Lagging("this subscription fell behind; subscribe again"),
        Missed("live updates missed some changes; read the person again and subscribe again"),
    ):
        error = GraphQLError(str(reason), path=["personEvents"], original_error=reason)
        assert classify(error) == "SERVICE_UNAVAILABLE"
        assert error.message == str(reason)  # the advice reaches the client as written
