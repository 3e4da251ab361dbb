"""Every query and mutation, called with every scope: allowed, or FORBIDDEN and nothing changed."""

import pytest
from pymongo.asynchronous.database import AsyncDatabase
from strawberry.types import ExecutionResult

from cdp.deps import Deps
from cdp.privacy.access import Principal, Scope
from cdp.store.database import Document
from resolvers import Context, schema
from resolvers.access import ROOT_FIELD_SCOPES
from tests.resolvers.graphql import execute

ID = '"000000000000000000000000"'
CALLS = {
    "track": 'mutation { track(events: [{type: "x", channel: WEB, identifiers: [{type: "cookie_id", value: "m1"}]}]) { accepted } }',
    "identify": 'mutation { identify(identifiers: [{type: "cookie_id", value: "m2"}]) { id } }',
    "setConsent": f'mutation {{ setConsent(personId: {ID}, purpose: "marketing", granted: true, source: "x") {{ id }} }}',
    "person": f"{{ person(id: {ID}) {{ id }} }}",
    "personByIdentifier": '{ personByIdentifier(type: "email", value: "a@b.co") { id } }',
    "findPersons": '{ findPersons(query: "a@b.co") { id } }',
    "viewer": "{ viewer { name scopes } }",
    "persons": "{ persons(first: 1) { edges { cursor } } }",
    "identityPath": '{ identityPath(from: {type: "email", value: "a@b.co"}, to: {type: "email", value: "c@d.co"}) { linked } }',
    "identityConflicts": "{ identityConflicts { totalCount } }",
    "identityRules": "{ identityRules { type } }",
    "identityRuleChanges": "{ identityRuleChanges { at } }",
    "exportPerson": f"{{ exportPerson(id: {ID}) }}",
    "mergePersons": f'mutation {{ mergePersons(into: {ID}, from: {ID}, reason: "r") {{ id }} }}',
    "unlinkIdentifier": f'mutation {{ unlinkIdentifier(personId: {ID}, identifier: {{type: "email", value: "a@b.co"}}, reason: "r") {{ persons {{ id }} }} }}',
    "dismissIdentityConflict": f"mutation {{ dismissIdentityConflict(id: {ID}) }}",
    "setIdentityRules": 'mutation { setIdentityRules(rules: [{type: "email", limit: 5, strength: STRONG}]) { type } }',
    "erasePerson": f'mutation {{ erasePerson(id: {ID}, reason: "r") {{ personId }} }}',
    "createApiKey": 'mutation { createApiKey(name: "n", scopes: [PROFILES_READ]) { id } }',
    "revokeApiKey": 'mutation { revokeApiKey(id: "nope") }',
    "apiKeys": "{ apiKeys { id } }",
    "clvModel": "{ clvModel { r } }",
    "rfmGrid": "{ rfmGrid { persons } }",
    "fitClvModel": "mutation { fitClvModel { r } }",
    "segments": "{ segments { id size } }",
    "segment": '{ segment(id: "high_aov") { id size significant } }',
    "createSegment": 'mutation { createSegment(input: {name: "n", rule: {identifier: {type: "twitter"}}}) { id } }',
    "updateSegment": 'mutation { updateSegment(id: "seg_missing", input: {name: "n", rule: {identifier: {type: "x"}}}) { id } }',
    "deleteSegment": 'mutation { deleteSegment(id: "seg_missing") }',
    "recomputeSegments": "mutation { recomputeSegments { persons } }",
    "offers": "{ offers { id } }",
    "coPurchaseRules": "{ coPurchaseRules { edges { cursor } } }",
    "campaign": '{ campaign(segmentId: "high_aov") { edges { node { person { id } } } } }',
    "upsertProducts": 'mutation { upsertProducts(products: [{sku: "S1", name: "Mug", price: 9.5}]) { sku } }',
    "createOffer": 'mutation { createOffer(input: {name: "Tea club", kind: SERVICE, value: 5}) { id } }',
    "updateOffer": 'mutation { updateOffer(id: "nope", input: {name: "n", kind: SERVICE, value: 1}) { id } }',
    "archiveOffer": 'mutation { archiveOffer(id: "nope") }',
    "recordOfferResponse": f'mutation {{ recordOfferResponse(personId: {ID}, offerId: "nope", response: SHOWN) }}',
    "rebuildOfferModels": "mutation { rebuildOfferModels { rules } }",
}

SUBSCRIPTIONS = {
    "personEvents": f"subscription {{ personEvents(personId: {ID}) {{ id }} }}",
    "personChanged": f"subscription {{ personChanged(personId: {ID}) {{ id }} }}",
}

# On an empty database a fit has no customers to fit on.
ALLOWED_ERRORS = {"fitClvModel": {"BAD_USER_INPUT"}}


def test_every_root_field_has_a_scope_rule_and_a_call_in_this_matrix() -> None:
    graphql_schema = schema._schema
    roots = [graphql_schema.query_type, graphql_schema.mutation_type]
    fields = {name for root in roots if root for name in root.fields}
    assert graphql_schema.subscription_type is not None
    live = set(graphql_schema.subscription_type.fields)
    assert fields | live == set(ROOT_FIELD_SCOPES) == set(CALLS) | set(SUBSCRIPTIONS)


async def counts(db: AsyncDatabase[Document]) -> dict[str, int]:
    return {name: await db[name].count_documents({}) for name in await db.list_collection_names()}


@pytest.mark.parametrize("scope", list(Scope), ids=lambda s: s.value)
@pytest.mark.parametrize("field", sorted(CALLS))
async def test_a_call_is_allowed_or_forbidden_by_its_scope(
    deps: Deps, db: AsyncDatabase[Document], field: str, scope: Scope
) -> None:
    principal = Principal("k", "matrix", frozenset({scope}))
    allowed = not principal.missing(ROOT_FIELD_SCOPES[field])
    before = await counts(db)
    _, errors = await execute(deps, CALLS[field], principal)
    codes = [error["extensions"]["code"] for error in errors]
    if allowed:
        assert "FORBIDDEN" not in codes, errors
        assert set(codes) <= ALLOWED_ERRORS.get(field, {"NOT_FOUND"}), errors  # dummy ids
    else:
        missing = principal.missing(ROOT_FIELD_SCOPES[field])[0].value
        assert codes == ["FORBIDDEN"]
        assert errors[0]["message"] == f"this key lacks the {missing} scope, needed for {field}"
        assert await counts(db) == before  # nothing changed


@pytest.mark.parametrize("scope", list(Scope), ids=lambda s: s.value)
@pytest.mark.parametrize("field", sorted(SUBSCRIPTIONS))
async def test_a_subscription_is_allowed_or_forbidden_by_its_scope(
    deps: Deps, field: str, scope: Scope
) -> None:
    principal = Principal("k", "matrix", frozenset({scope}))
    allowed = not principal.missing(ROOT_FIELD_SCOPES[field])
    stream = await schema.subscribe(SUBSCRIPTIONS[field], context_value=Context(deps, principal))
    assert not isinstance(stream, ExecutionResult)
    first = await anext(stream)
    await stream.aclose()
    codes = [error.extensions["code"] for error in first.errors or [] if error.extensions]
    # allowed: it got as far as looking the person up (a dummy id)
    assert codes == (["NOT_FOUND"] if allowed else ["FORBIDDEN"]), first.errors
