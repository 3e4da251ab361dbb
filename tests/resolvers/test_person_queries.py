"""Reading a person: by any identifier or old id, with a filtered, paginated timeline."""

from datetime import UTC, datetime
from typing import Any

from cdp.deps import Deps
from tests.resolvers.graphql import execute, operation
from tests.stories import event, seed_story

BY_IDENTIFIER = operation("PersonByIdentifier")


async def load_story(deps: Deps) -> list[str]:
    data, errors = await execute(deps, operation("Track"), events=seed_story())
    assert errors == []
    return [r["personId"] for r in data["track"]["results"]]


async def lookup(deps: Deps, **variables: Any) -> Any:
    data, errors = await execute(deps, BY_IDENTIFIER, **variables)
    assert errors == [], errors
    return data["personByIdentifier"]


async def test_pages_walk_the_whole_timeline_newest_first_without_gaps_or_repeats(
    deps: Deps,
) -> None:
    await load_story(deps)
    seen: list[str] = []
    after = None
    for _ in range(3):
        person = await lookup(
            deps, type="email", value="ana.silva@example.com", first=3, after=after
        )
        page = person["timeline"]
        assert page["totalCount"] == 4
        seen += [edge["node"]["id"] for edge in page["edges"]]
        after = page["pageInfo"]["endCursor"]
        if not page["pageInfo"]["hasNextPage"]:
            break
    assert seen == ["app-1", "call-1", "web-1", "fb-1"]


async def test_events_of_the_same_millisecond_are_paged_by_id(deps: Deps) -> None:
    same_time = [
        event(
            "page_view",
            "WEB",
            [("cookie_id", "ck-1")],
            at="2026-03-01T10:00:00Z",
            message_id=f"m{i}",
        )
        for i in range(5)
    ]
    await execute(deps, operation("Track"), events=same_time)
    first = await lookup(deps, type="cookie_id", value="ck-1", first=2)
    rest = await lookup(
        deps,
        type="cookie_id",
        value="ck-1",
        first=10,
        after=first["timeline"]["pageInfo"]["endCursor"],
    )
    ids = [e["node"]["id"] for page in (first, rest) for e in page["timeline"]["edges"]]
    assert ids == ["m4", "m3", "m2", "m1", "m0"]


async def test_the_timeline_filters_by_channel_type_and_time_window(deps: Deps) -> None:
    await load_story(deps)
    phone_and_app = await lookup(
        deps, type="facebook", value="10158000000001", channels=["PHONE", "MOBILE_APP"]
    )
    assert [e["node"]["id"] for e in phone_and_app["timeline"]["edges"]] == ["app-1", "call-1"]
    forms = await lookup(
        deps, type="facebook", value="10158000000001", types=["contact_form_submitted"]
    )
    assert forms["timeline"]["totalCount"] == 1
    morning = await lookup(
        deps,
        type="phone",
        value="+44 20 7946 0958",
        since="2026-03-01T09:15:00+00:00",
        until="2026-03-01T11:00:00+00:00",
    )
    assert [e["node"]["id"] for e in morning["timeline"]["edges"]] == ["call-1", "web-1"]


async def test_an_event_shows_its_channel_properties_and_normalised_identifiers(deps: Deps) -> None:
    await load_story(deps)
    person = await lookup(deps, type="phone", value="020 7946 0958", types=["call_received"])
    call = person["timeline"]["edges"][0]["node"]
    assert call["channel"] == "PHONE"
    assert call["properties"] == {"durationSeconds": 240}
    assert call["timestamp"] == "2026-03-01T11:00:00+00:00"
    assert call["identifiers"] == [
        {"type": "phone", "value": "+442079460958"},
        {"type": "email", "value": "ana.silva@example.com"},
    ]


async def test_an_absorbed_id_finds_the_survivor(deps: Deps) -> None:
    person_ids = []
    for raw in seed_story():
        data, _ = await execute(deps, operation("Track"), events=[raw])
        person_ids.append(data["track"]["results"][0]["personId"])
    data, errors = await execute(deps, operation("Person"), id=person_ids[1])
    assert errors == []
    assert data["person"]["id"] == person_ids[0]
    assert data["person"]["mergedFrom"] == [person_ids[1]]
    assert data["person"]["timeline"]["totalCount"] == 4


async def test_unknown_people_are_null_and_bad_arguments_are_errors_with_codes(deps: Deps) -> None:
    await load_story(deps)
    assert await lookup(deps, type="email", value="nobody@example.com") is None
    data, errors = await execute(deps, operation("Person"), id="000000000000000000000000")
    assert errors == []
    assert data["person"] is None
    cases: list[tuple[dict[str, Any], str]] = [
        ({"type": "email", "value": "ana@@example.com"}, "not a valid email"),
        ({"type": "email", "value": "ana.silva@example.com", "after": "garbage"}, "not a cursor"),
        ({"type": "email", "value": "ana.silva@example.com", "first": 501}, "first: 501"),
    ]
    for variables, fragment in cases:
        data, errors = await execute(deps, BY_IDENTIFIER, **variables)
        assert errors[0]["extensions"]["code"] == "BAD_USER_INPUT"
        assert fragment in errors[0]["message"]


async def test_a_number_kept_as_phone_is_found_as_whatsapp_or_sms(deps: Deps) -> None:
    await load_story(deps)  # Ana phoned the shop from 020 7946 0958
    by_phone = await lookup(deps, type="phone", value="+44 20 7946 0958")
    by_whatsapp = await lookup(deps, type="whatsapp", value="442079460958")
    by_sms = await lookup(deps, type="sms", value="020 7946 0958")
    assert by_phone["id"] == by_whatsapp["id"] == by_sms["id"]


async def test_a_handle_is_found_with_or_without_its_at_sign(deps: Deps) -> None:
    raw = event(
        "message_received", "INSTAGRAM", [("instagram", "@Ana_Silva")], at="2026-03-01T09:00:00Z"
    )
    data, errors = await execute(deps, operation("Track"), events=[raw])
    assert errors == []
    person = await lookup(deps, type="instagram", value="ana_silva")
    assert person["id"] == data["track"]["results"][0]["personId"]


async def test_the_customers_own_lane_leaves_the_platforms_rows_out(deps: Deps) -> None:
    await load_story(deps)
    today = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    order = event(
        "purchase",
        "WEB",
        [("email", "ana.silva@example.com")],
        at=today,
        message_id="order-1",
        properties={"total": 40.0},
    )
    await execute(deps, operation("Track"), events=[order])  # she enters segments
    everything = (await lookup(deps, type="email", value="ana.silva@example.com"))["timeline"]
    platform = [
        e["node"]["type"] for e in everything["edges"] if e["node"]["type"].startswith("segment_")
    ]
    assert platform
    own = await lookup(
        deps,
        type="email",
        value="ana.silva@example.com",
        excludeTypes=["segment_entered", "segment_left"],
    )
    assert own["timeline"]["totalCount"] == 5 == everything["totalCount"] - len(platform)
    assert {e["node"]["type"] for e in own["timeline"]["edges"]}.isdisjoint(platform)


async def test_one_search_box_finds_a_person_by_any_identifier_written_any_way(
    deps: Deps,
) -> None:
    await load_story(deps)
    twins = [
        event(
            "signup",
            "WEB",
            [("email", f"sam{i}@example.com"), ("device_id", "tablet-9")],
            at=f"2026-03-0{3 + i}T10:00:00Z",
            message_id=f"twin-{i}",
        )
        for i in range(2)
    ]
    await execute(deps, operation("Track"), events=twins)
    search = operation("FindPersons")

    async def found(text: str) -> list[dict[str, Any]]:
        data, errors = await execute(deps, search, text=text)
        assert errors == [], errors
        return list(data["findPersons"])

    for written in (
        "+44 20 7946 0958 ",
        "+442079460958",
        "+44 (0)20 7946-0958",
        "  ANA.SILVA@example.com",
        "10158000000001",
    ):
        [ana] = await found(written)
        assert ana["traits"]["firstName"] == "Ana"
    assert await found("nobody@example.com") == []
    assert len(await found("sam1@example.com")) == 1
    shared = await found("tablet-9")  # a weak identifier follows its last user only
    emails = [i["value"] for p in shared for i in p["identifiers"] if i["type"] == "email"]
    assert emails == ["sam1@example.com"]
    _, errors = await execute(deps, search, text="   ")
    assert errors[0]["message"].startswith("query: type an identifier")
    _, errors = await execute(deps, search, text="x" * 5_000)
    assert errors[0]["message"] == "query: 5000 characters; an identifier is at most 256"
    assert errors[0]["extensions"]["code"] == "BAD_USER_INPUT"
