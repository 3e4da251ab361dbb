"""Who did it: every change an agent makes records the API key that made it."""

from typing import Any

from cdp.deps import Deps
from cdp.privacy.access import Principal, Scope
from tests.resolvers.graphql import execute, operation
from tests.stories import event

MARIA = Principal("k-7f3a", "Support: Maria", frozenset({Scope.ADMIN}))
BY_MARIA = "Support: Maria (key k-7f3a)"


async def run(deps: Deps, name: str, /, **variables: Any) -> Any:
    data, errors = await execute(deps, operation(name), MARIA, **variables)
    assert errors == [], errors
    return data


async def two_profiles_of_ana(deps: Deps) -> list[str]:
    batch = [
        event("signup", "WEB", [("email", "ana@example.com")], at="2026-03-01T09:00:00Z"),
        event("call", "PHONE", [("phone", "+447911123456")], at="2026-03-02T09:00:00Z"),
    ]
    return [r["personId"] for r in (await run(deps, "Track", events=batch))["track"]["results"]]


async def test_a_manual_merge_and_an_unlink_name_the_key_that_made_them(deps: Deps) -> None:
    web, phone = await two_profiles_of_ana(deps)
    await run(deps, "MergePersons", into=web, **{"from": phone}, reason="same caller")
    await run(
        deps,
        "UnlinkIdentifier",
        personId=web,
        identifier={"type": "phone", "value": "+447911123456"},
        reason="her husband's phone",
    )
    graph = (await run(deps, "IdentityGraph", type="email", value="ana@example.com"))[
        "personByIdentifier"
    ]
    assert sorted((m["kind"], m["agent"]) for m in graph["mergeHistory"]) == [
        ("MERGE", BY_MARIA),
        ("UNLINK", BY_MARIA),
    ]


async def test_a_consent_and_an_erasure_name_the_key_that_recorded_them(deps: Deps) -> None:
    web, phone = await two_profiles_of_ana(deps)
    consented = await run(
        deps, "SetConsent", personId=web, purpose="marketing", granted=True, source="phone call"
    )
    assert [c["agent"] for c in consented["setConsent"]["consents"]] == [BY_MARIA]
    erased = await run(deps, "ErasePerson", id=phone, reason="asked to be forgotten")
    assert erased["erasePerson"]["agent"] == BY_MARIA


async def test_a_rule_change_is_kept_with_who_asked_for_it(deps: Deps) -> None:
    await run(deps, "SetIdentityRules", rules=[{"type": "email", "limit": 2}])
    await run(deps, "SetIdentityRules", rules=[{"type": "crm_id", "blockedValues": ["n/a"]}])
    changes = (await run(deps, "IdentityRuleChanges"))["identityRuleChanges"]
    assert [(c["agent"], c["changes"]) for c in changes] == [
        (BY_MARIA, {"crm_id": {"blocked_values": ["n/a"]}}),
        (BY_MARIA, {"email": {"limit": 2}}),
    ]
