"""Without pii:read, emails, phones and names are masked wherever they appear."""

import json
from typing import Any

from cdp.access import Principal, Scope
from cdp.deps import Deps
from tests.resolvers.graphql import execute, operation
from tests.stories import seed_story

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
