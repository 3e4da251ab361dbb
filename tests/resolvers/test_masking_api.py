"""Without pii:read, emails, phones and names are masked wherever they appear."""

import base64
import json
from typing import Any

from cdp.deps import Deps
from cdp.privacy.access import Principal, Scope
from tests.resolvers.graphql import execute, operation
from tests.stories import event, seed_story

READER = Principal("r", "frontend", frozenset({Scope.PROFILES_READ}))
PII_READER = Principal("p", "support", frozenset({Scope.PROFILES_READ, Scope.PII_READ}))
CLEAR = ["ana.silva@example.com", "+442079460958", '"Ana"']


async def ana_as_seen_by(deps: Deps, principal: Principal) -> str:
    await execute(deps, operation("Track"), events=seed_story())
    found: list[Any] = []
    for name in ("PersonByIdentifier", "IdentityGraph"):
        data, errors = await execute(
            deps, operation(name), principal, type="facebook", value="10158000000001"
        )
        assert errors == []
        found.append(data)
    path, errors = await execute(
        deps,
        operation("IdentityPath"),
        principal,
        **{
            "from": {"type": "facebook", "value": "10158000000001"},
            "to": {"type": "phone", "value": "+442079460958"},
        },
    )
    assert errors == []
    return json.dumps([*found, path])


async def test_a_key_without_pii_read_sees_masked_values_everywhere(deps: Deps) -> None:
    seen = await ana_as_seen_by(deps, READER)
    for clear in CLEAR:
        assert clear not in seen, clear
    assert "a***@example.com" in seen  # identifiers, timeline, graph keys
    assert "+44*******958" in seen
    assert '"A**"' in seen  # the firstName trait
    assert "ck-7f3a" in seen  # a cookie id is not personal on its own


async def test_a_key_with_pii_read_sees_the_values(deps: Deps) -> None:
    seen = await ana_as_seen_by(deps, PII_READER)
    for clear in CLEAR:
        assert clear in seen, clear


async def test_conflict_ids_and_cursors_do_not_carry_the_identifier(deps: Deps) -> None:
    _, errors = await execute(
        deps,
        operation("SetIdentityRules"),
        rules=[{"type": "email", "limit": 1, "strength": "STRONG"}],
    )
    assert errors == []
    await execute(deps, operation("Track"), events=seed_story())  # the call joins two emails
    await execute(
        deps,
        operation("Track"),
        events=[
            event(
                "call_received",
                "PHONE",
                [("phone", "+44 20 7946 0958"), ("email", "ana.work@example.com")],
                at="2026-03-03T10:00:00Z",
            )
        ],
    )
    data, errors = await execute(deps, operation("IdentityConflicts"), READER)
    assert errors == []
    [edge] = data["identityConflicts"]["edges"]
    seen = json.dumps(data) + base64.urlsafe_b64decode(edge["cursor"] + "==").decode()
    assert "ana.work@example.com" not in seen
    assert "+442079460958" not in seen
    assert edge["node"]["identifier"] in ("email:a***@example.com", "phone:+44*******958")


async def test_traits_a_merge_replaced_are_masked_by_their_name(deps: Deps) -> None:
    story = seed_story()
    story[0]["traits"] = {"firstName": "Anna", "phone": "+44 7911 123456"}  # facebook first
    story[1]["traits"] = {"firstName": "Ana", "phone": "+44 7911 654321"}
    for raw in story:  # one call each: the login merges two persons that already exist
        await execute(deps, operation("Track"), events=[raw])
    data, errors = await execute(
        deps, operation("IdentityGraph"), READER, type="email", value="ana.silva@example.com"
    )
    assert errors == []
    [merge] = data["personByIdentifier"]["mergeHistory"]
    replaced = merge["replacedTraits"]
    assert set(replaced) == {"firstName", "phone"}
    assert "Ana" not in json.dumps(replaced)
    assert "7911" not in json.dumps(replaced)
    assert replaced["firstName"]["value"] in ("A**", "A***")
