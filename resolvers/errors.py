"""One place that gives every GraphQL error a stable ``extensions.code``.

Resolvers raise the domain's :class:`cdp.errors.CdpError`; parse and validation errors
come from graphql-core; a database that is away gives ``SERVICE_UNAVAILABLE``. Anything
else is a bug: the caller gets a generic message and a code, never a stack trace, and
the details go to the log.
"""

from __future__ import annotations

import logging
import re
from typing import Any

import strawberry
from graphql import GraphQLError

from cdp.availability import as_unavailable
from cdp.errors import CdpError

log = logging.getLogger("cdp.graphql")
# What a message may quote from the request: a value ('ana@example.com', {"type": ...}),
# an email or a long number anywhere. The log keeps the code, the path and the sentence.
_QUOTED = re.compile(r"('\$\w+')|'[^']*'|\"[^\"]*\"|\{.*\}")  # keeps '$variable' names
_EMAIL = re.compile(r"\S+@\S+")
_NUMBER = re.compile(r"\+?\d[\d ()\-]{5,}\d")


def loggable(message: str) -> str:
    """An error message without the personal data a request may have put in it."""
    unquoted = _QUOTED.sub(lambda found: found.group(1) or "…", message)
    return _NUMBER.sub("…", _EMAIL.sub("…", unquoted))


def classify(error: GraphQLError) -> str:
    """Set ``extensions.code`` (and hide internals) on one error, in place; return the code."""
    original = error.original_error
    extensions: dict[str, Any] = dict(error.extensions or {})
    away = as_unavailable(original)
    if away is not None:
        log.warning("database unavailable in %s: %s", error.path, loggable(str(original)))
        error.message = away.message
        extensions["code"] = away.code
    elif isinstance(original, CdpError):
        extensions["code"] = original.code
    elif original is None or error.path is None:
        # No path: the request itself was refused (syntax, validation, variable coercion)
        # before any resolver ran.
        extensions.setdefault("code", "BAD_USER_INPUT")
    else:
        log.error("unexpected error in %s", error.path, exc_info=original)
        error.message = "Internal server error; the details are in the service log."
        extensions["code"] = "INTERNAL_SERVER_ERROR"
    error.extensions = extensions
    return str(extensions["code"])


class CdpSchema(strawberry.Schema):
    """A strawberry schema whose errors always carry a code."""

    def process_errors(
        self, errors: list[GraphQLError], execution_context: Any | None = None
    ) -> None:
        for error in errors:
            code = classify(error)
            if code != "INTERNAL_SERVER_ERROR":  # internal ones are logged with their stack
                log.info("graphql error %s at %s: %s", code, error.path, loggable(error.message))
