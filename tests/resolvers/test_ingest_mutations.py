"""track and identify over GraphQL: per-event outcomes, request-level errors, codes."""

from pymongo.asynchronous.database import AsyncDatabase

from cdp.deps import Deps
from cdp.store.database import Document
from tests.resolvers.graphql import execute, operation
from tests.stories import event, seed_story

TRACK = operation("Track")


async def test_track_answers_each_event_with_status_person_and_the_reason_for_a_rejection(
    deps: Deps,
) -> None:
    bad = event(
        "call_received",
        "PHONE",
        [("phone", "12345")],
        at="2026-03-01T12:00:00Z",
        message_id="bad-1",
    )
    unnamed = event("page_view", "WEB", [("cookie_id", "ck-9")], at="2026-03-01T12:00:00Z")
    data, errors = await execute(deps, TRACK, events=[*seed_story(), bad, unnamed])
    assert errors == []
    payload = data["track"]
    assert (payload["accepted"], payload["duplicates"], payload["rejected"]) == (5, 0, 1)
    ana = {r["personId"] for r in payload["results"][:4]}
    assert len(ana) == 1
    rejected = payload["results"][4]
    assert rejected["messageId"] == "bad-1"
    assert rejected["status"] == "REJECTED"
    assert rejected["errorCode"] == "INVALID_IDENTIFIER"
    assert rejected["field"] == "identifiers[0].value"
    assert "'12345' is not a valid phone number" in rejected["error"]
    assert rejected["personId"] is None
    assert len(payload["results"][5]["messageId"]) == 32  # generated and returned

    again, _ = await execute(deps, TRACK, events=seed_story())
    assert again["track"]["duplicates"] == 4


async def test_a_batch_over_the_limit_is_one_clear_error_with_a_code(
    deps: Deps, db: AsyncDatabase[Document]
) -> None:
    events = [event("page_view", "WEB", [("cookie_id", "c")], at="2026-03-01T12:00:00Z")] * 1001
    data, errors = await execute(deps, TRACK, events=events)
    assert data is None
    assert errors[0]["extensions"]["code"] == "BAD_USER_INPUT"
    assert "at most 1000" in errors[0]["message"]
    assert await db["events"].count_documents({}) == 0


async def test_a_value_the_type_system_refuses_fails_the_request_naming_the_path(
    deps: Deps, db: AsyncDatabase[Document]
) -> None:
    """An unknown enum or a malformed DateTime never reaches the resolver, so nothing at all
    is written; the error names the exact position in the variables."""
    events = [
        *seed_story(),
        event("page_view", "FAX", [("cookie_id", "c")], at="2026-03-01T12:00:00Z"),
    ]
    data, errors = await execute(deps, TRACK, events=events)
    assert data is None
    assert errors[0]["extensions"]["code"] == "BAD_USER_INPUT"
    assert errors[0]["message"].startswith(
        "Variable '$events' has invalid value at [4].channel: Value 'FAX' does not exist"
    )
    assert await db["events"].count_documents({}) == 0


async def test_identify_returns_the_stitched_person(deps: Deps) -> None:
    await execute(deps, TRACK, events=seed_story()[:1])
    data, errors = await execute(
        deps,
        operation("Identify"),
        identifiers=[
            {"type": "facebook", "value": "10158000000001"},
            {"type": "customer_id", "value": "C-1042"},
        ],
        traits={"firstName": "Ana", "city": "Porto"},
        channel="CRM",
    )
    assert errors == []
    person = data["identify"]
    assert person["traits"] == {"firstName": "Ana", "city": "Porto"}
    assert {(i["type"], i["value"]) for i in person["identifiers"]} == {
        ("facebook", "10158000000001"),
        ("customer_id", "C-1042"),
    }


async def test_identify_with_a_malformed_email_is_a_bad_user_input_naming_the_field(
    deps: Deps,
) -> None:
    data, errors = await execute(
        deps, operation("Identify"), identifiers=[{"type": "email", "value": "ana@@x"}]
    )
    assert data is None
    assert errors[0]["extensions"]["code"] == "BAD_USER_INPUT"
    assert errors[0]["message"].startswith("identifiers[0].value: 'ana@@x' is not a valid email")


async def test_a_number_too_large_to_store_rejects_its_event_not_the_batch(deps: Deps) -> None:
    """An order number sent as a JSON number beyond 64 bits: that event is refused with
    the path (the write of the whole batch failed with an internal error before), the
    others are stored."""
    huge = event(
        "purchase",
        "WEB",
        [("email", "ana@example.com")],
        at="2026-03-01T12:00:00Z",
        message_id="huge-1",
        properties={"orderNo": 123456789012345678901234567890, "total": 20.0},
    )
    fine = event("page_view", "WEB", [("cookie_id", "ck-9")], at="2026-03-01T12:00:00Z")
    data, errors = await execute(deps, TRACK, events=[huge, fine])
    assert errors == []
    first, second = data["track"]["results"]
    assert (first["status"], first["errorCode"], first["field"]) == (
        "REJECTED",
        "INVALID_EVENT",
        "properties.orderNo",
    )
    assert "send it as text" in first["error"]
    assert second["status"] == "ACCEPTED"
