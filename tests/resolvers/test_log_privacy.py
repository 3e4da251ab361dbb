"""What leaves the service is clean: refused input is logged by code and place, never
with the emails, numbers and words a customer sent (at the level the service logs)."""

import logging

import pytest

from cdp.deps import Deps
from tests.resolvers.graphql import execute, operation
from tests.stories import event

PERSONAL = ["ana.silva@example.com", "+447911123456", "7911 123456", "my husband left"]


def bad_batch() -> list[dict[str, object]]:
    note = {"text": "Call me on 07911 123456, my husband left", "from": "ana.silva@example.com"}
    return [
        event("message_received", "FAX", [("email", "ana.silva@example.com")], at="2026-03-01",
              properties=note),
        event("call", "PHONE", [("phone", "+447911123456")], at="2026-03-01"),
    ]  # fmt: skip


async def test_a_refused_request_leaves_no_personal_data_in_the_log(
    deps: Deps, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.INFO):
        _, errors = await execute(deps, operation("Track"), events=bad_batch())
        assert errors
        assert errors[0]["extensions"]["code"] == "BAD_USER_INPUT"
        _, errors = await execute(
            deps,
            operation("Identify"),
            identifiers=[{"type": "email", "value": "ana silva@example.com"}],
        )
        assert errors
    assert "BAD_USER_INPUT" in caplog.text  # the refusal is logged...
    for value in [*PERSONAL, "ana silva"]:
        assert value not in caplog.text  # ...without what the customer wrote


async def test_rejected_events_of_a_batch_are_not_logged_at_all(
    deps: Deps, caplog: pytest.LogCaptureFixture
) -> None:
    batch = [
        event("call", "PHONE", [("phone", "07911 1234")], at="2026-03-01"),
        event("signup", "WEB", [("email", "ana.silva@")], at="2026-03-01"),
    ]
    with caplog.at_level(logging.INFO):
        data, errors = await execute(deps, operation("Track"), events=batch)
    assert errors == []
    assert data["track"]["rejected"] == 2
    for value in [*PERSONAL, "ana.silva@", "07911 1234"]:
        assert value not in caplog.text
