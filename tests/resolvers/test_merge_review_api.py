"""A CC'd email reply carries the addresses of two customers who each have their own
history: the merge waits for an agent instead of joining them for good. A login's
customer id is trusted and still merges at once."""

from typing import Any

from cdp.deps import Deps
from tests.resolvers.graphql import execute, operation
from tests.stories import event


async def run(deps: Deps, name: str, /, **variables: Any) -> Any:
    data, errors = await execute(deps, operation(name), **variables)
    assert errors == [], errors
    return data


async def history(deps: Deps, identifiers: list[tuple[str, str]], tag: str) -> str:
    """Three purchases: a customer with a history of their own."""
    batch = [
        event("purchase", "WEB", identifiers, at=f"2026-02-0{day}T10:00:00Z",
              message_id=f"{tag}-{day}", properties={"total": 20.0})
        for day in (1, 2, 3)
    ]  # fmt: skip
    results = (await run(deps, "Track", events=batch))["track"]["results"]
    return str(results[0]["personId"])


def reply(*emails: str) -> dict[str, Any]:
    return event(
        "email_reply",
        "EMAIL",
        [("email", e) for e in emails],
        at="2026-03-01T09:00:00Z",
        message_id="reply-1",
        properties={"subject": "Re: your order"},
    )


async def test_a_reply_cc_ing_another_customer_is_held_for_an_agent(deps: Deps) -> None:
    ana = await history(deps, [("email", "ana@example.com")], "ana")
    bo = await history(deps, [("email", "bo@example.org")], "bo")

    landed = await run(deps, "Track", events=[reply("ana@example.com", "bo@example.org")])
    assert landed["track"]["results"][0]["personId"] == ana  # stored, on the first address

    bo_now = await run(deps, "PersonByIdentifier", type="email", value="bo@example.org")
    assert bo_now["personByIdentifier"]["id"] == bo  # still two people
    [held] = [
        e["node"] for e in (await run(deps, "IdentityConflicts"))["identityConflicts"]["edges"]
    ]
    assert held["rule"].startswith("held for review: both persons have their own history")
    assert (held["person"]["id"], held["other"]["id"], held["eventId"]) == (ana, bo, "reply-1")

    # The agent calls Ana: it is the same household account after all, so they merge.
    merged = await run(deps, "MergePersons", into=ana, **{"from": bo}, reason="confirmed by phone")
    assert sorted(i["value"] for i in merged["mergePersons"]["identifiers"]) == [
        "ana@example.com",
        "bo@example.org",
    ]


async def test_a_held_merge_can_be_dismissed(deps: Deps) -> None:
    await history(deps, [("email", "ana@example.com")], "ana")
    await history(deps, [("email", "bo@example.org")], "bo")
    await run(deps, "Track", events=[reply("ana@example.com", "bo@example.org")])
    [edge] = (await run(deps, "IdentityConflicts"))["identityConflicts"]["edges"]

    assert (await run(deps, "DismissIdentityConflict", id=edge["node"]["id"]))[
        "dismissIdentityConflict"
    ]
    assert (await run(deps, "IdentityConflicts"))["identityConflicts"]["totalCount"] == 0
    _, errors = await execute(deps, operation("DismissIdentityConflict"), id=edge["node"]["id"])
    assert errors[0]["extensions"]["code"] == "NOT_FOUND"


async def test_a_login_with_the_customer_id_still_merges_at_once(deps: Deps) -> None:
    store = await history(deps, [("customer_id", "C-774")], "store")
    web = await history(deps, [("email", "ana@example.com")], "web")
    login = event(
        "login", "WEB", [("customer_id", "C-774"), ("email", "ana@example.com")],
        at="2026-03-01T09:00:00Z", message_id="login-1",
    )  # fmt: skip
    await run(deps, "Track", events=[login])
    person = await run(deps, "PersonByIdentifier", type="email", value="ana@example.com")
    assert person["personByIdentifier"]["id"] == min(store, web)  # one person now
    assert (await run(deps, "IdentityConflicts"))["identityConflicts"]["totalCount"] == 0


async def test_newcomers_still_merge_as_they_meet(deps: Deps) -> None:
    # Ana's first contacts: one message on Facebook, one web form; the app login that
    # carries both joins them (neither has a history of its own yet).
    facebook = event(
        "message_received", "FACEBOOK", [("facebook", "10158000000001")], at="2026-03-01T09:00:00Z"
    )
    form = event("form_submitted", "WEB", [("email", "ana@example.com")], at="2026-03-01T10:00:00Z")
    login = event("login", "MOBILE_APP", [("facebook", "10158000000001"), ("email", "ana@example.com")],
                  at="2026-03-02T08:00:00Z")  # fmt: skip
    for raw in (facebook, form, login):
        await run(deps, "Track", events=[raw])
    by_email = await run(deps, "PersonByIdentifier", type="email", value="ana@example.com")
    assert len(by_email["personByIdentifier"]["identifiers"]) == 2


async def test_segment_entries_do_not_make_a_customer_established(deps: Deps) -> None:
    """Two purchases each put Ana and Bo in segments (timeline rows the platform writes);
    their own history is still two events, under the three that make a person
    established, so the reply naming both merges them at once."""
    batch = [
        event("purchase", "WEB", [("email", who)], at=f"2026-02-0{day}T10:00:00Z",
              message_id=f"{who}-{day}", properties={"total": 20.0})
        for who in ("ana@example.com", "bo@example.org")
        for day in (1, 2)
    ]  # fmt: skip
    await run(deps, "Track", events=batch)
    read = """query($value: String!) { personByIdentifier(type: "email", value: $value) {
      timeline(first: 20) { edges { node { type } } } } }"""
    data, errors = await execute(deps, read, value="bo@example.org")
    assert errors == []
    types = [e["node"]["type"] for e in data["personByIdentifier"]["timeline"]["edges"]]
    assert types.count("purchase") == 2
    assert "segment_entered" in types  # the platform's rows are there

    await run(deps, "Track", events=[reply("ana@example.com", "bo@example.org")])
    bo_now = await run(deps, "PersonByIdentifier", type="email", value="bo@example.org")
    ana_now = await run(deps, "PersonByIdentifier", type="email", value="ana@example.com")
    assert bo_now["personByIdentifier"]["id"] == ana_now["personByIdentifier"]["id"]
    assert (await run(deps, "IdentityConflicts"))["identityConflicts"]["totalCount"] == 0
