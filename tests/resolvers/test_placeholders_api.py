"""Two strangers who both send customer_id "0" stay two people; what is dropped is said."""

from typing import Any

from cdp.deps import Deps
from tests.resolvers.graphql import execute, operation
from tests.stories import event


async def run(deps: Deps, name: str, /, **variables: Any) -> Any:
    data, errors = await execute(deps, operation(name), **variables)
    assert errors == [], errors
    return data


def signup(email: str, customer_id: str, at: str) -> dict[str, Any]:
    return event(
        "signup", "WEB", [("email", email), ("customer_id", customer_id)], at=at, traits={}
    )


async def test_strangers_sending_a_placeholder_customer_id_are_not_merged(deps: Deps) -> None:
    ana = await run(deps, "Track", events=[signup("ana@example.com", "0", "2026-03-01T09:00:00Z")])
    bo = await run(deps, "Track", events=[signup("bo@example.com", "0", "2026-03-01T09:05:00Z")])

    [ana_result], [bo_result] = ana["track"]["results"], bo["track"]["results"]
    assert ana_result["status"] == bo_result["status"] == "ACCEPTED"
    assert ana_result["personId"] != bo_result["personId"]
    assert bo_result["blockedIdentifiers"] == [{"type": "customer_id", "value": "0"}]
    assert bo["track"]["blockedIdentifiers"] == 1
    person = (await run(deps, "PersonByIdentifier", type="email", value="bo@example.com"))[
        "personByIdentifier"
    ]
    assert [(i["type"], i["value"]) for i in person["identifiers"]] == [("email", "bo@example.com")]


async def test_an_event_identified_only_by_placeholders_is_rejected_alone(deps: Deps) -> None:
    batch = [
        event("page_view", "WEB", [("cookie_id", "undefined")], at="2026-03-01T09:00:00Z"),
        event("page_view", "WEB", [("cookie_id", "ck-7f3a")], at="2026-03-01T09:01:00Z"),
    ]
    track = (await run(deps, "Track", events=batch))["track"]
    refused, landed = track["results"]
    assert refused["status"] == "REJECTED"
    assert refused["errorCode"] == "BLOCKED_IDENTIFIER"
    assert refused["field"] == "identifiers"
    assert "cookie_id 'undefined'" in refused["error"]
    assert landed["status"] == "ACCEPTED"
    counts = {r["type"]: r["blocked"] for r in (await run(deps, "Placeholders"))["identityRules"]}
    assert counts["cookie_id"] == 1


async def test_an_admin_adds_a_shop_specific_placeholder(deps: Deps) -> None:
    rules = (
        await run(
            deps,
            "SetIdentityRules",
            rules=[{"type": "customer_id", "blockedValues": ["WALK-IN"], "blockedPatterns": []}],
        )
    )["setIdentityRules"]
    assert {"type": "customer_id", "limit": 1, "strength": "STRONG", "rank": 100} in rules
    shown = {r["type"]: r for r in (await run(deps, "Placeholders"))["identityRules"]}
    assert shown["customer_id"]["blockedValues"] == ["walk-in"]
    assert shown["customer_id"]["blockedPatterns"] == []

    first = await run(deps, "Track", events=[signup("ana@example.com", "walk-in", "2026-03-01")])
    second = await run(deps, "Track", events=[signup("bo@example.com", "Walk-In", "2026-03-02")])
    assert first["track"]["results"][0]["personId"] != second["track"]["results"][0]["personId"]
    # the defaults were replaced for this type: "0" is an ordinary customer number now
    both = [
        signup("cy@example.com", "0", "2026-03-03"),
        signup("di@example.com", "0", "2026-03-04"),
    ]
    results = (await run(deps, "Track", events=both))["track"]["results"]
    assert results[0]["personId"] == results[1]["personId"]


async def test_a_pattern_that_does_not_compile_is_refused_with_its_reason(deps: Deps) -> None:
    data, errors = await execute(
        deps,
        operation("SetIdentityRules"),
        rules=[{"type": "crm_id", "blockedPatterns": ["([a-z]"]}],
    )
    assert data is None
    [error] = errors
    assert error["extensions"]["code"] == "BAD_USER_INPUT"
    assert "rules.crm_id.blocked_patterns" in error["message"]
    assert "not a valid regular expression" in error["message"]
