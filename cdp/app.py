"""The web application: GraphQL at ``/graphql``, health at ``/healthz``, the console at ``/``.

:func:`create_app` composes everything from a :class:`Settings` object; the lifespan
starts the embedded database when no ``CDP_MONGODB_URI`` is given, opens the client on
the running event loop, ensures indexes and hands a :class:`Deps` to every request.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import ExitStack, asynccontextmanager
from importlib import resources

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response
from starlette.routing import Route
from starlette.websockets import WebSocket
from strawberry.asgi import GraphQL

from cdp.deps import Deps
from cdp.events import EventRules
from cdp.ingest import IngestLimits
from cdp.settings import Settings
from cdp.store import Stores
from cdp.store.database import connect, ensure_indexes, ping
from cdp.store.embedded import database_uri
from resolvers import Context, build_schema


class _GraphQLApp(GraphQL[Context, None]):
    async def get_context(self, request: Request | WebSocket, response: object) -> Context:
        return Context(deps=request.app.state.deps)


async def _healthz(request: Request) -> Response:
    deps: Deps | None = getattr(request.app.state, "deps", None)
    if deps is not None and await deps.database_ready():
        return JSONResponse({"status": "ok", "database": "up"})
    return JSONResponse({"status": "unavailable", "database": "down"}, status_code=503)


async def _console(request: Request) -> Response:
    page = resources.files("cdp.console").joinpath("index.html").read_text(encoding="utf-8")
    return HTMLResponse(page)


def create_app(settings: Settings) -> Starlette:
    """Build the service; nothing touches the database until the lifespan starts."""
    limits = IngestLimits(
        rules=EventRules(
            default_phone_region=settings.default_phone_region,
            max_properties_bytes=settings.max_properties_bytes,
        ),
        max_batch_size=settings.max_batch_size,
        identity=settings.identity(),
    )

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        database = ExitStack()  # the embedded server, when there is no URI
        uri = await asyncio.to_thread(
            database.enter_context,
            database_uri(settings.mongodb_uri, settings.data_dir, settings.embedded_start_timeout),
        )
        client = connect(uri)
        try:
            db = client[settings.db_name]
            await ensure_indexes(db)
            app.state.deps = Deps(
                stores=Stores.on(db), limits=limits, database_ready=lambda: ping(db)
            )
            yield
        finally:
            await client.close()
            await asyncio.to_thread(database.close)

    graphql = _GraphQLApp(build_schema())
    routes = [
        Route("/graphql", graphql, methods=["GET", "POST"]),
        Route("/healthz", _healthz, methods=["GET"]),
        Route("/", _console, methods=["GET"]),
    ]
    return Starlette(routes=routes, lifespan=lifespan)
