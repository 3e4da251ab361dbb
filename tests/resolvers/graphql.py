"""Run documented operations against the schema in-process, the way a client would."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from cdp.deps import Deps
from cdp.privacy.access import Principal, Scope
from resolvers import Context, schema

OPERATIONS = Path(__file__).resolve().parents[2] / "schema" / "operations"


def operation(name: str) -> str:
    return (OPERATIONS / f"{name}.graphql").read_text()


ADMIN = Principal("test-admin", "test admin", frozenset({Scope.ADMIN}))


async def execute(
    deps: Deps, query: str, principal: Principal = ADMIN, **variables: Any
) -> tuple[Any, list[dict[str, Any]]]:
    """Return ``(data, errors)`` with errors formatted as they go over the wire."""
    context = Context(deps, principal)
    result = await schema.execute(query, variable_values=variables, context_value=context)
    errors = [dict(error.formatted) for error in result.errors or []]
    return result.data, errors
