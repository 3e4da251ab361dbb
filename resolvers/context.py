"""The per-request GraphQL context."""

from __future__ import annotations

from dataclasses import dataclass

import strawberry

from cdp.deps import Deps


@dataclass(slots=True)
class Context:
    """Built fresh for every request; per-request caches (DataLoaders) belong here."""

    deps: Deps


Info = strawberry.Info[Context, None]
