"""The per-request GraphQL context: dependencies, the caller, per-request loaders."""

from __future__ import annotations

from dataclasses import dataclass, field

import strawberry

from cdp.deps import Deps
from cdp.privacy.access import Principal
from resolvers.loaders import Loaders


@dataclass(slots=True)
class Context:
    """Built fresh for every request, so DataLoader caches never outlive it."""

    deps: Deps
    principal: Principal
    loaders: Loaders = field(init=False)
    # What a WebSocket client sent in connection_init (strawberry fills it in).
    connection_params: dict[str, object] | None = None
    client: str = "unknown"  # the caller's address, for the edge's sign-in limits

    def __post_init__(self) -> None:
        self.loaders = Loaders(self.deps)


Info = strawberry.Info[Context, None]
