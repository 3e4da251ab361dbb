"""Refuse unstorable text in any argument before a resolver runs.

A JSON string may carry a lone surrogate (``"\\ud800"``) that no database can store. Caught
when writing, it could stop an operation half-way; caught here, on the arguments of every
query and mutation, the operation never starts and the caller is told which argument.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from graphql import GraphQLResolveInfo
from strawberry.extensions import SchemaExtension

from cdp.errors import BadUserInput
from resolvers.context import Context

ROOT_TYPES = frozenset({"Query", "Mutation"})
# track rejects such text per event (cdp.events), so one bad event never sinks its batch.
VALIDATES_ITS_OWN_TEXT = frozenset({"track"})


class InputHygiene(SchemaExtension):
    def resolve(
        self,
        _next: Callable[..., Any],
        root: Any,
        info: GraphQLResolveInfo[Context],
        *args: Any,
        **kwargs: Any,
    ) -> Any:
        if info.parent_type.name in ROOT_TYPES and info.field_name not in VALIDATES_ITS_OWN_TEXT:
            for name, value in kwargs.items():
                _check(value, name)
        return _next(root, info, *args, **kwargs)


def _check(value: Any, path: str) -> None:
    if isinstance(value, str):
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            raise BadUserInput(f"{path}: contains text that is not valid Unicode") from None
    elif isinstance(value, dict):
        for key, child in value.items():
            _check(key, path)
            _check(child, f"{path}.{key}")
    elif isinstance(value, list):
        for index, child in enumerate(value):
            _check(child, f"{path}[{index}]")
