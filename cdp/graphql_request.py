"""The shape of a GraphQL-over-HTTP request, checked before GraphQL sees it.

Pure: given the method, content type, body and query parameters, either the request is
well formed or a sentence says what is wrong with it. The HTTP edge answers such a
request with 400 (415 for a content type it does not take) and a GraphQL-shaped error
with ``extensions.code``, never a server error: a JSON body that is not an object, a
body that is not UTF-8, variables nested a thousand levels deep, a number of 5,000
digits all land here.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

MAX_VARIABLE_DEPTH = 64  # far beyond any real input; event payloads stop at 32


@dataclass(frozen=True, slots=True)
class Refusal:
    """Why a request cannot be a GraphQL request: HTTP status and a sentence."""

    status: int
    message: str


def check_post(content_type: str, body: bytes) -> Refusal | None:
    found = read_post(content_type, body)
    return found if isinstance(found, Refusal) else None


def read_post(content_type: str, body: bytes) -> Refusal | dict[str, Any]:
    """The request's JSON object, or why it is not a GraphQL request (parsed once: the
    GraphQL layer is handed this object rather than parsing the body again)."""
    media = content_type.split(";")[0].strip().lower()
    if media != "application/json" and not media.endswith("+json"):
        return Refusal(415, "send the request as JSON, with 'Content-Type: application/json'")
    try:
        payload = json.loads(body.decode("utf-8"))
    except UnicodeDecodeError:
        return Refusal(400, "the request body is not valid UTF-8")
    except (ValueError, RecursionError) as error:
        return Refusal(400, f"the request body is not valid JSON ({_short(error)})")
    if isinstance(payload, list):
        return Refusal(400, "send one operation per request: batches are not taken")
    if not isinstance(payload, dict):
        return Refusal(
            400, 'the request body must be a JSON object: {"query": "...", "variables": {...}}'
        )
    refused = _check_fields(payload.get("query"), payload.get("variables"), payload)
    return refused or payload


def check_get(params: Mapping[str, str]) -> Refusal | None:
    variables: Any = None
    if params.get("variables"):
        try:
            variables = json.loads(params["variables"])
        except (ValueError, RecursionError) as error:
            return Refusal(400, f"variables: not valid JSON ({_short(error)})")
    return _check_fields(params.get("query"), variables, params)


def _check_fields(query: Any, variables: Any, payload: Mapping[str, Any]) -> Refusal | None:
    if not isinstance(query, str) or not query.strip():
        return Refusal(400, "query: send the GraphQL document as a string")
    if variables is not None and not isinstance(variables, dict):
        return Refusal(400, "variables: send an object of variable values, or leave it out")
    name = payload.get("operationName")
    if name is not None and not isinstance(name, str):
        return Refusal(400, "operationName: a string, or leave it out")
    if variables is not None and _depth(variables) > MAX_VARIABLE_DEPTH:
        return Refusal(400, f"variables: nested more than {MAX_VARIABLE_DEPTH} levels deep")
    return None


def _depth(value: Any, level: int = 0) -> int:
    """How deeply lists and objects nest in ``value``, counted no further than one level
    past ``MAX_VARIABLE_DEPTH``: the recursion stops there, so a body nested a hundred
    thousand levels deep cannot exhaust Python's stack. (Recursive because it is three
    times cheaper than a stack of every value: a bulk call's 500 events are checked on
    each request.)"""
    if isinstance(value, dict):
        children: Any = value.values()
    elif isinstance(value, list):
        children = value
    else:
        return level
    level += 1
    if level > MAX_VARIABLE_DEPTH:
        return level
    deepest = level
    for child in children:
        if isinstance(child, dict | list):
            deepest = max(deepest, _depth(child, level))
            if deepest > MAX_VARIABLE_DEPTH:
                return deepest
    return deepest


def _short(error: BaseException) -> str:
    text = str(error) or type(error).__name__
    return text if len(text) <= 120 else text[:117] + "..."
