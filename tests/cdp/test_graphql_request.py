"""What makes a GraphQL-over-HTTP request well formed, decided before GraphQL runs."""

import json

import pytest

from cdp.graphql_request import MAX_VARIABLE_DEPTH, check_get, check_post

JSON = "application/json"


def test_a_well_formed_request_passes() -> None:
    body = {"query": "{ a }", "variables": {"x": [1, {"y": None}]}, "operationName": None}
    assert check_post(JSON, json.dumps(body).encode()) is None
    assert check_post("application/json; charset=utf-8", b'{"query": "{ a }"}') is None
    assert check_get({"query": "{ a }", "variables": '{"x": 1}'}) is None


@pytest.mark.parametrize(
    ("body", "status", "says"),
    [
        (b"1", 400, "must be a JSON object"),
        (b'"x"', 400, "must be a JSON object"),
        (b"null", 400, "must be a JSON object"),
        (b"[1]", 400, "batches are not taken"),
        (b'{"query": 5}', 400, "query: send the GraphQL document as a string"),
        (b'{"query": "  "}', 400, "query: send the GraphQL document as a string"),
        (b'{"query": "{ a }", "variables": [1]}', 400, "variables: send an object"),
        (b'{"query": "{ a }", "operationName": 3}', 400, "operationName"),
        (b"\xff\xfe{}", 400, "not valid UTF-8"),
        (b"{not json", 400, "not valid JSON"),
        (b'{"query": "{ a }", "variables": {"n": ' + b"9" * 5000 + b"}}", 400, "not valid JSON"),
    ],
)
def test_a_malformed_body_is_refused_with_a_reason(body: bytes, status: int, says: str) -> None:
    refusal = check_post(JSON, body)
    assert refusal is not None
    assert refusal.status == status
    assert says in refusal.message


def test_variables_nested_too_deep_are_refused_before_the_stack_runs_out() -> None:
    deep = "[" * 100_000 + "]" * 100_000  # deeper than Python's recursion limit
    refusal = check_post(JSON, ('{"query": "{ a }", "variables": {"a": ' + deep + "}}").encode())
    assert refusal is not None
    assert refusal.status == 400
    nested = {"query": "{ a }", "variables": {"a": [[[]]]}}
    for _ in range(MAX_VARIABLE_DEPTH):
        nested["variables"] = {"a": nested["variables"]}
    refusal = check_post(JSON, json.dumps(nested).encode())
    assert refusal is not None
    assert "nested more than" in refusal.message


def test_only_json_is_taken() -> None:
    refusal = check_post("text/plain", b'{"query": "{ a }"}')
    assert refusal is not None
    assert refusal.status == 415


def test_a_get_needs_a_query_and_object_variables() -> None:
    assert check_get({}) is not None
    refusal = check_get({"query": "{ a }", "variables": "[1"})
    assert refusal is not None
    assert "variables: not valid JSON" in refusal.message
