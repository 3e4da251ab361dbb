"""API keys and scopes, pure: who is calling and what they may do.

Keys are long random strings shown once; only their SHA-256 is stored. A fast hash is
right here: a key has 256 bits of entropy, so it cannot be guessed from its hash the way
a password could. ``admin`` holds every other scope.
"""

from __future__ import annotations

import enum
import hashlib
import secrets
from collections.abc import Iterable
from dataclasses import dataclass

from cdp.errors import BadUserInput

KEY_PREFIX = "cdp_"


class Scope(enum.Enum):
    # Members are singletons: the identity hash (in C) suits them; Enum's own hashes the
    # name in Python, and a read asks for a scope on every masked field it returns.
    __hash__ = object.__hash__

    EVENTS_WRITE = "events:write"
    PROFILES_READ = "profiles:read"
    PII_READ = "pii:read"
    SEGMENTS_WRITE = "segments:write"
    OFFERS_WRITE = "offers:write"
    ADMIN = "admin"


@dataclass(frozen=True, slots=True)
class Principal:
    """The caller behind a request: an API key's id, name and scopes."""

    key_id: str
    name: str
    scopes: frozenset[Scope]

    @property
    def agent(self) -> str:
        """Who made a change, as the audit trail records it: the key's name and id."""
        return f"{self.name} (key {self.key_id})"

    def allows(self, scope: Scope) -> bool:
        return scope in self.scopes or Scope.ADMIN in self.scopes

    def missing(self, required: Iterable[Scope]) -> list[Scope]:
        return [scope for scope in required if not self.allows(scope)]


ANONYMOUS = Principal("anonymous", "anonymous", frozenset())  # may do nothing at all


def new_key() -> str:
    return KEY_PREFIX + secrets.token_urlsafe(32)


def key_hash(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def bearer_key(authorization: str | None) -> str | None:
    """The key of an ``Authorization: Bearer <key>`` header, or None."""
    if not authorization:
        return None
    kind, _, key = authorization.strip().partition(" ")
    return key.strip() or None if kind.lower() == "bearer" else None


def parse_scopes(text: str) -> frozenset[Scope]:
    """Scopes written as ``events:write,profiles:read`` (names like EVENTS_WRITE work too)."""
    found: set[Scope] = set()
    for part in (p.strip() for p in text.split(",")):
        if not part:
            continue
        match = [s for s in Scope if part in (s.value, s.name, s.name.lower())]
        if not match:
            allowed = ", ".join(s.value for s in Scope)
            raise BadUserInput(f"scopes: {part!r} is not a scope; use {allowed}")
        found.add(match[0])
    if not found:
        raise BadUserInput("scopes: name at least one scope")
    return frozenset(found)
