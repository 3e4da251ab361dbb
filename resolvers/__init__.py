"""The GraphQL layer: thin types and resolvers that convert input, call ``cdp``, convert back."""

from resolvers.context import Context
from resolvers.schema import build_schema, schema, sdl

__all__ = ["Context", "build_schema", "schema", "sdl"]
