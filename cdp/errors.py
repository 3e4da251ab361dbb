"""Errors the service reports to callers, each with a stable code.

The GraphQL layer turns these into errors whose ``extensions.code`` is ``code``; keeping
the codes here lets the domain say what went wrong without knowing about GraphQL.
"""

from __future__ import annotations


class CdpError(Exception):
    """Base of every error a caller may see; ``code`` is stable across releases."""

    code = "INTERNAL"

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class BadUserInput(CdpError):
    """The request itself is wrong (too many events, a bad cursor, a bad page size)."""

    code = "BAD_USER_INPUT"


class NotFound(CdpError):
    """The thing asked for does not exist."""

    code = "NOT_FOUND"


class Conflict(CdpError):
    """The change would break a rule (an identity limit, say); the message names the rule."""

    code = "CONFLICT"


class Unauthenticated(CdpError):
    """No key, or a key that is unknown or revoked."""

    code = "UNAUTHENTICATED"


class Forbidden(CdpError):
    """The key lacks a scope the operation needs; the message names it."""

    code = "FORBIDDEN"


class RateLimited(CdpError):
    """The key sent more requests than its rate allows."""

    code = "RATE_LIMITED"


class ServiceUnavailable(CdpError):
    """The database is away (restarting, unreachable); retrying later will work."""

    code = "SERVICE_UNAVAILABLE"


class InternalError(CdpError):
    """A bug met where no field is being resolved (a subscription's stream): said as a
    query's would be, the details left to the service log."""

    code = "INTERNAL_SERVER_ERROR"

    def __init__(self) -> None:
        super().__init__("Internal server error; the details are in the service log.")
