"""Keys, persons, consent, export and erasure over GraphQL, through the documented operations."""

from typing import Any

from cdp.deps import Deps
from cdp.privacy.access import Principal, Scope
from cdp.privacy.keys import authenticate
from tests.resolvers.graphql import execute, operation
from tests.stories import event, seed_story


async def run(deps: Deps, name: str, /, **variables: Any) -> Any:
    data, errors = await execute(deps, operation(name), **variables)
    assert errors == [], errors
    return data


async def test_a_key_is_created_listed_and_revoked(deps: Deps) -> None:
    made = (await run(deps, "CreateApiKey", name="web frontend", scopes=["PROFILES_READ"]))[
        "createApiKey"
    ]
    assert (await authenticate(deps.stores, made["key"])) is not None
    [listed] = (await run(deps, "ApiKeys"))["apiKeys"]
    assert (listed["id"], listed["name"], listed["scopes"], listed["revokedAt"]) == (
        made["id"],
        "web frontend",
        ["PROFILES_READ"],
        None,
    )
    assert "key" not in listed
    assert (await run(deps, "RevokeApiKey", id=made["id"]))["revokeApiKey"] is True
    assert (await authenticate(deps.stores, made["key"])) is None
    assert (await run(deps, "ApiKeys"))["apiKeys"][0]["revokedAt"] is not None


async def test_any_key_may_ask_what_it_may_do(deps: Deps) -> None:
    writer = Principal("k-1", "checkout", frozenset({Scope.EVENTS_WRITE, Scope.PII_READ}))
    data, errors = await execute(deps, operation("Viewer"), writer)
    assert errors == []
    assert data["viewer"] == {
        "keyId": "k-1",
        "name": "checkout",
        "scopes": ["EVENTS_WRITE", "PII_READ"],
    }


async def test_persons_are_paged_newest_first(deps: Deps) -> None:
    for i in range(5):
        await run(
            deps,
            "Track",
            events=[event("x", "WEB", [("email", f"p{i}@example.com")], at="2026-03-01T10:00:00Z")],
        )
    seen: list[str] = []
    after = None
    while True:
        page = (await run(deps, "Persons", first=2, after=after))["persons"]
        seen += [edge["node"]["identifiers"][0]["value"] for edge in page["edges"]]
        after = page["pageInfo"]["endCursor"]
        if not page["pageInfo"]["hasNextPage"]:
            break
    assert seen == [f"p{i}@example.com" for i in reversed(range(5))]


async def test_consent_export_and_erasure_of_ana(deps: Deps) -> None:
    results = (await run(deps, "Track", events=seed_story()))["track"]["results"]
    ana = results[0]["personId"]
    consent = (
        await run(
            deps,
            "SetConsent",
            personId=ana,
            purpose="marketing",
            granted=True,
            source="app settings",
            channel="EMAIL",
        )
    )["setConsent"]
    assert [(c["purpose"], c["channel"], c["granted"]) for c in consent["consents"]] == [
        ("marketing", "EMAIL", True)
    ]
    exported = (await run(deps, "ExportPerson", id=ana))["exportPerson"]
    assert exported["person"]["id"] == ana
    assert len(exported["events"]) == 4
    assert exported["consents"][0]["source"] == "app settings"
    erased = (await run(deps, "ErasePerson", id=ana, reason="GDPR request #12"))["erasePerson"]
    assert (erased["personId"], erased["reason"]) == (ana, "GDPR request #12")
    assert (await run(deps, "Person", id=ana))["person"] is None
