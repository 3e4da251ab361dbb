"""The identity graph over GraphQL: explain, review conflicts, correct, configure."""

from typing import Any

from cdp.deps import Deps
from tests.resolvers.graphql import execute, operation
from tests.stories import event, seed_story


async def run(deps: Deps, name: str, /, **variables: Any) -> Any:
    data, errors = await execute(deps, operation(name), **variables)
    assert errors == [], errors
    return data


async def test_identity_path_explains_the_seed_story_link_by_link(deps: Deps) -> None:
    for raw in seed_story():
        await run(deps, "Track", events=[raw])
    data = await run(
        deps,
        "IdentityPath",
        **{
            "from": {"type": "facebook", "value": "10158000000001"},
            "to": {"type": "phone", "value": "+44 20 7946 0958"},
        },
    )
    path = data["identityPath"]
    assert path["linked"] is True
    assert [(s["from"], s["to"], s["eventId"]) for s in path["steps"]] == [
        ("facebook:10158000000001", "email:ana.silva@example.com", "app-1"),
        ("email:ana.silva@example.com", "phone:+442079460958", "call-1"),
    ]
    assert path["person"]["id"]


async def test_the_identity_graph_and_merge_history_of_a_person(deps: Deps) -> None:
    for raw in seed_story():
        await run(deps, "Track", events=[raw])
    person = (await run(deps, "IdentityGraph", type="email", value="ana.silva@example.com"))[
        "personByIdentifier"
    ]
    assert len(person["identityGraph"]["nodes"]) == 4
    edges = person["identityGraph"]["edges"]
    assert len(edges) == 3
    proofs = {(edge["event"]["id"], edge["event"]["type"]) for edge in edges}
    assert proofs == {
        ("web-1", "contact_form_submitted"),
        ("call-1", "call_received"),
        ("app-1", "login"),
    }
    [merge] = person["mergeHistory"]
    assert merge["kind"] == "MERGE"
    assert merge["eventId"] == "app-1"
    assert merge["absorbed"] == person["mergedFrom"][0]


async def test_a_stricter_rule_set_by_an_admin_refuses_the_next_link_and_lists_the_conflict(
    deps: Deps,
) -> None:
    rules = (
        await run(
            deps, "SetIdentityRules", rules=[{"type": "email", "limit": 1, "strength": "STRONG"}]
        )
    )["setIdentityRules"]
    assert {"type": "email", "limit": 1, "strength": "STRONG", "rank": 80} in rules
    assert (await run(deps, "IdentityRules"))["identityRules"] == rules
    await run(
        deps,
        "Track",
        events=[
            event(
                "signup",
                "WEB",
                [("email", "ana@example.com"), ("phone", "+447911123456")],
                at="2026-03-01T09:00:00Z",
            )
        ],
    )
    await run(
        deps,
        "Track",
        events=[
            event("signup", "WEB", [("email", "ana.work@example.com")], at="2026-03-01T10:00:00Z")
        ],
    )
    await run(
        deps,
        "Track",
        events=[
            event(
                "call",
                "PHONE",
                [("phone", "+447911123456"), ("email", "ana.work@example.com")],
                at="2026-03-01T11:00:00Z",
                message_id="call-9",
            )
        ],
    )
    conflicts = (await run(deps, "IdentityConflicts"))["identityConflicts"]
    assert conflicts["totalCount"] == 1
    node = conflicts["edges"][0]["node"]
    assert node["rule"] == "email: at most 1 identifier of this type per person"
    assert node["eventId"] == "call-9"
    # email outranks phone, so the call belongs to the work email's person; joining the
    # phone's person would give it a second email, so the phone link is the refused one.
    assert node["identifier"] == "phone:+447911123456"
    assert {node["person"]["id"], node["other"]["id"]} == {
        (await run(deps, "PersonByIdentifier", type="email", value=v))["personByIdentifier"]["id"]
        for v in ("ana@example.com", "ana.work@example.com")
    }


async def test_an_agent_merges_and_a_refused_merge_is_a_conflict_error(deps: Deps) -> None:
    a = await run(
        deps,
        "Track",
        events=[event("call", "PHONE", [("phone", "+447911123456")], at="2026-03-01T09:00:00Z")],
    )
    b = await run(
        deps,
        "Track",
        events=[event("form", "WEB", [("email", "ana@example.com")], at="2026-03-01T10:00:00Z")],
    )
    first, second = a["track"]["results"][0]["personId"], b["track"]["results"][0]["personId"]
    merged = (
        await run(deps, "MergePersons", into=second, **{"from": first}, reason="same caller")
    )["mergePersons"]
    assert merged["id"] == second  # `into` keeps its id, though `from` is older
    assert merged["mergedFrom"] == [first]

    c = await run(
        deps,
        "Track",
        events=[event("x", "WEB", [("customer_id", "C-1")], at="2026-03-01T09:00:00Z")],
    )
    d = await run(
        deps,
        "Track",
        events=[event("x", "WEB", [("customer_id", "C-2")], at="2026-03-01T09:00:00Z")],
    )
    data, errors = await execute(
        deps,
        operation("MergePersons"),
        into=c["track"]["results"][0]["personId"],
        reason="x",
        **{"from": d["track"]["results"][0]["personId"]},
    )
    assert data is None
    assert errors[0]["extensions"]["code"] == "CONFLICT"
    assert "customer_id: at most 1" in errors[0]["message"]


async def test_unlink_over_graphql_returns_the_persons_that_now_exist(deps: Deps) -> None:
    for raw in [
        event(
            "signup",
            "WEB",
            [("email", "bo@example.com"), ("phone", "+447911123456"), ("cookie_id", "ck-bo")],
            at="2026-03-01T09:00:00Z",
        ),
        event(
            "order",
            "STORE",
            [("customer_id", "C-ANA"), ("email", "ana@example.com")],
            at="2026-03-02T10:00:00Z",
        ),
        event(
            "order",
            "PHONE",
            [("customer_id", "C-ANA"), ("email", "bo@example.com")],
            at="2026-03-03T10:00:00Z",
        ),
    ]:
        await run(deps, "Track", events=[raw])
    merged = (await run(deps, "PersonByIdentifier", type="customer_id", value="C-ANA"))[
        "personByIdentifier"
    ]["id"]
    result = (
        await run(
            deps,
            "UnlinkIdentifier",
            personId=merged,
            identifier={"type": "email", "value": "bo@example.com"},
            reason="typo",
        )
    )["unlinkIdentifier"]
    held = [sorted(i["type"] for i in p["identifiers"]) for p in result["persons"]]
    assert held == [["cookie_id", "phone"], ["customer_id", "email"], ["email"]]
    data, errors = await execute(
        deps,
        operation("UnlinkIdentifier"),
        personId=merged,
        identifier={"type": "email", "value": "bo@example.com"},
        reason=" ",
    )
    assert data is None
    assert errors[0]["extensions"]["code"] == "BAD_USER_INPUT"
    assert "reason" in errors[0]["message"]
