"""Segments over GraphQL: define, read with members and significance, change, delete."""

from datetime import UTC, datetime, timedelta
from typing import Any

from cdp.deps import Deps
from cdp.ingest import track
from cdp.privacy.access import Principal, Scope
from tests.resolvers.graphql import execute, operation

NOW = datetime.now(UTC)
PRICING_TWICE: dict[str, Any] = {
    "events": {
        "type": "page_view",
        "where": [{"path": "url", "value": "/pricing"}],
        "atLeast": 2,
        "withinDays": 14,
    }
}
MARKETER = Principal("m", "marketer", frozenset({Scope.SEGMENTS_WRITE, Scope.PROFILES_READ}))


def visit(visitor: int, url: str, days_ago: float, n: int) -> dict[str, Any]:
    return {
        "messageId": f"v{visitor}-{n}",
        "type": "page_view",
        "channel": "WEB",
        "identifiers": [{"type": "cookie_id", "value": f"ck-{visitor}"}],
        "timestamp": (NOW - timedelta(days=days_ago)).isoformat(),
        "properties": {"url": url, "device": "mobile" if visitor % 2 else "desktop"},
    }


async def seed(deps: Deps, visitors: int = 6) -> None:
    events = [visit(v, "/pricing", 1 + k, k) for v in range(visitors) for k in range(1 + v % 3)]
    await track(deps.stores, events, deps.limits)


async def test_a_marketer_defines_a_segment_and_pages_through_its_members(deps: Deps) -> None:
    await seed(deps)
    made, errors = await execute(
        deps,
        operation("CreateSegment"),
        MARKETER,
        input={
            "name": "Pricing shoppers",
            "description": "Twice in 14 days",
            "rule": PRICING_TWICE,
        },
    )
    assert errors == []
    segment = made["createSegment"]
    assert segment["size"] == 4  # visitors 1, 2, 4, 5 looked two or three times
    assert segment["rule"] == {**PRICING_TWICE}

    data, errors = await execute(deps, operation("Segment"), MARKETER, id=segment["id"], first=3)
    assert errors == []
    first_page = data["segment"]["members"]
    assert len(first_page["edges"]) == 3
    assert first_page["pageInfo"]["hasNextPage"] is True
    assert data["segment"]["significance"]["significant"] is False
    assert data["segment"]["significance"]["reason"].startswith("4 of 6 persons (66.7%")
    assert data["segment"]["share"] == 4 / 6

    rest, _ = await execute(
        deps,
        operation("Segment"),
        MARKETER,
        id=segment["id"],
        first=3,
        after=first_page["pageInfo"]["endCursor"],
    )
    ids = [e["node"]["id"] for e in first_page["edges"] + rest["segment"]["members"]["edges"]]
    assert len(set(ids)) == 4
    assert rest["segment"]["members"]["pageInfo"]["hasNextPage"] is False


async def test_segments_lists_built_in_ones_with_their_size(deps: Deps) -> None:
    await seed(deps)
    data, errors = await execute(deps, operation("Segments"), kind="BUILT_IN")
    assert errors == []
    sizes = {s["id"]: s["size"] for s in data["segments"]}
    assert sizes["mobile_first"] == 3  # the odd visitors browse on a phone
    assert sizes["purchased_last_30d"] == 0
    assert {s["kind"] for s in data["segments"]} == {"BUILT_IN"}


async def test_a_person_shows_segments_and_the_timeline_shows_entering(deps: Deps) -> None:
    await seed(deps, visitors=2)
    person = (await track(deps.stores, [visit(1, "/home", 0, 9)], deps.limits)).results[0].person_id
    data, errors = await execute(deps, operation("PersonSegments"), id=person)
    assert errors == []
    assert [m["segment"]["id"] for m in data["person"]["segments"]] == ["mobile_first"]
    [entry] = data["person"]["timeline"]["edges"]
    assert entry["node"]["type"] == "segment_entered"
    assert entry["node"]["properties"]["segmentId"] == "mobile_first"


async def test_a_bad_rule_is_refused_with_its_path_and_nothing_is_stored(deps: Deps) -> None:
    bad = {
        "and": [
            PRICING_TWICE,
            {
                "metric": {"metric": "ORDERS", "op": "GT", "value": "many"},
                "identifier": {"type": "x"},
            },
        ]
    }
    _, errors = await execute(
        deps, operation("CreateSegment"), input={"name": "Broken", "rule": bad}
    )
    assert [e["extensions"]["code"] for e in errors] == ["BAD_USER_INPUT"]
    assert errors[0]["message"].startswith("rule.and[1]: give exactly one of")
    listed, _ = await execute(deps, operation("Segments"), kind="USER")
    assert listed["segments"] == []


async def test_changing_and_deleting_a_segment(deps: Deps) -> None:
    await seed(deps)
    made, _ = await execute(
        deps, operation("CreateSegment"), input={"name": "Pricing", "rule": PRICING_TWICE}
    )
    segment_id = made["createSegment"]["id"]
    thrice = {"events": {**PRICING_TWICE["events"], "atLeast": 3}}
    changed, errors = await execute(
        deps,
        operation("UpdateSegment"),
        id=segment_id,
        input={"name": "Pricing x3", "rule": thrice},
    )
    assert errors == []
    assert (changed["updateSegment"]["name"], changed["updateSegment"]["size"]) == ("Pricing x3", 2)

    _, errors = await execute(
        deps, operation("UpdateSegment"), id="high_aov", input={"name": "Mine", "rule": thrice}
    )
    assert [e["extensions"]["code"] for e in errors] == ["FORBIDDEN"]

    deleted, errors = await execute(deps, operation("DeleteSegment"), id=segment_id)
    assert (deleted, errors) == ({"deleteSegment": segment_id}, [])
    gone, _ = await execute(deps, operation("Segment"), id=segment_id)
    assert gone["segment"] is None
    _, errors = await execute(deps, operation("DeleteSegment"), id=segment_id)
    assert [e["extensions"]["code"] for e in errors] == ["NOT_FOUND"]


async def test_a_segment_rule_value_too_large_to_store_is_a_bad_user_input(deps: Deps) -> None:
    data, errors = await execute(
        deps,
        'mutation($v: JSON) { createSegment(input: {name: "Loyal", rule: {trait: '
        '{name: "loyaltyId", op: EQ, value: $v}}}) { id } }',
        v=2**64,
    )
    assert data is None
    assert errors[0]["extensions"]["code"] == "BAD_USER_INPUT"
    assert errors[0]["message"].startswith("input.rule.trait.value: is a whole number beyond 64")
