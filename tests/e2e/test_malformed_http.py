"""Raw HTTP as an outside client sends it: malformed bodies, wrong types, odd methods.

Every answer is a 4xx with a GraphQL-shaped error carrying ``extensions.code``, never a
5xx, plain text or a stack trace; a well-formed request still works afterwards.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.e2e.server import serving

FIXED = [
    b"1",
    b"[1]",
    b'"x"',
    b"null",
    b"true",
    b"{}",
    b'{"query": 5}',
    b'{"query": null}',
    b'{"query": "{ __typename }", "variables": "x"}',
    b'{"query": "{ __typename }", "variables": [1]}',
    b'{"query": "{ __typename }", "operationName": 1}',
    b'{"query": "{ __typename }", "variables": {"a": ' + b"[" * 1000 + b"]" * 1000 + b"}}",
    b'{"query": "{ __typename }", "variables": {"n": ' + b"7" * 5000 + b"}}",
    b"\xff\xfe\xfa",
    b'{"query": "{ __typename }"',
    b'{"query": "{ persons(first: \\"x\\") { edges { cursor } } }"}',
    b'{"query": "mutation { nope }"}',
    b'{"query": "{ coPurchaseRules(after: \\"-1\\") { edges { cursor } } }"}',
    b'{"query": "{ coPurchaseRules(after: \\"99999999999999999999\\") { edges { cursor } } }"}',
    b"",
]


@pytest.fixture(scope="module")
def client(mongodb_uri: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[httpx.Client]:
    folder: Path = tmp_path_factory.mktemp("malformed")
    env = {
        "CDP_MONGODB_URI": mongodb_uri,
        "CDP_DB_NAME": f"malformed_{uuid.uuid4().hex[:12]}",
        "CDP_RATE_LIMIT_BURST": "100000",
        "CDP_RATE_LIMIT_PER_MINUTE": "100000",
    }
    with serving(env, folder) as service:
        yield service.client


def assert_clear_refusal(response: httpx.Response) -> None:
    assert response.status_code < 500, (response.status_code, response.text)
    body = response.json()  # JSON, not plain text
    if response.status_code != 200:
        assert body["errors"], body
    for error in body.get("errors") or []:
        assert error["extensions"]["code"] in {"BAD_USER_INPUT", "UNAUTHENTICATED", "NOT_FOUND"}
        assert "Traceback" not in error["message"]


@pytest.mark.parametrize("body", FIXED, ids=lambda b: b[:30].decode("latin-1"))
def test_a_malformed_post_gets_a_clear_4xx(client: httpx.Client, body: bytes) -> None:
    response = client.post("/graphql", content=body, headers={"Content-Type": "application/json"})
    assert_clear_refusal(response)


@pytest.mark.parametrize(
    "params",
    [
        {},
        {"query": ""},
        {"query": "{ __typename }", "variables": "[1"},
        {"query": "{ __typename }", "variables": "5"},
        {"query": 'mutation { deleteSegment(id: "x") }'},
        {"query": "{"},
    ],
)
def test_a_malformed_get_gets_a_clear_4xx(client: httpx.Client, params: dict[str, str]) -> None:
    assert_clear_refusal(client.get("/graphql", params=params))


def test_other_content_types_and_methods(client: httpx.Client) -> None:
    plain = client.post(
        "/graphql", content=b"{ __typename }", headers={"Content-Type": "text/plain"}
    )
    assert plain.status_code == 415
    assert_clear_refusal(plain)
    form = client.post("/graphql", data={"query": "{ __typename }"})
    assert_clear_refusal(form)
    assert client.put("/graphql", content=b"{}").status_code == 405


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner),
    max_leaves=20,
)


@settings(max_examples=60, deadline=None, suppress_health_check=list(HealthCheck))
@given(
    st.one_of(
        st.binary(max_size=200),
        json_values.map(lambda v: json.dumps(v).encode()),
        st.fixed_dictionaries(
            {"query": st.one_of(st.text(max_size=60), json_values)},
            optional={"variables": json_values, "operationName": json_values},
        ).map(lambda v: json.dumps(v).encode()),
    )
)
def test_any_body_gets_an_answer_with_a_code(client: httpx.Client, body: bytes) -> None:
    response = client.post("/graphql", content=body, headers={"Content-Type": "application/json"})
    assert_clear_refusal(response)


def test_a_well_formed_request_still_works(client: httpx.Client) -> None:
    response = client.post("/graphql", json={"query": "{ identityRules { type } }"})
    assert response.status_code == 200
    assert response.json()["data"]["identityRules"]


def test_a_document_of_two_operations_must_name_the_one_to_run(client: httpx.Client) -> None:
    """The GraphQL specification's rule: without ``operationName`` a document of two
    operations is an error (the first one's answer, as before, is another question's)."""
    document = "query Rules { identityRules { type } } query Name { __typename }"
    unnamed = client.post("/graphql", json={"query": document})
    assert_clear_refusal(unnamed)
    [error] = unnamed.json()["errors"]
    assert error["extensions"]["code"] == "BAD_USER_INPUT"
    assert "operationName" in error["message"]
    named = client.post("/graphql", json={"query": document, "operationName": "Name"})
    assert named.json() == {"data": {"__typename": "Query"}}
