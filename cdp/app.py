"""The web application: GraphQL at ``/graphql``, health at ``/healthz``, the console at ``/``.

:func:`create_app` builds the HTTP edge from a :class:`Settings` object; its lifespan
asks the composition root (:mod:`cdp.bootstrap`) for the running service (database,
indexes, keys, refresher) and hands its :class:`Deps` to every request. ``/graphql``
is guarded before GraphQL runs: the request body is capped, the API key is checked
(401), and each key's request rate is limited (429).
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from contextvars import ContextVar
from importlib import resources

from cross_web import HTTPException  # what strawberry raises for a refused request
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response
from starlette.routing import Route, WebSocketRoute
from starlette.types import Message, Receive, Scope, Send
from starlette.websockets import WebSocket
from strawberry.asgi import GraphQL
from strawberry.exceptions import ConnectionRejectionError
from strawberry.http import GraphQLHTTPResponse
from strawberry.subscriptions import GRAPHQL_TRANSPORT_WS_PROTOCOL

from cdp import bootstrap
from cdp.access import ANONYMOUS, Principal, bearer_key
from cdp.availability import RETRY_AFTER_SECONDS, as_unavailable
from cdp.deps import Deps
from cdp.graphql_request import Refusal, check_get, read_post
from cdp.keys import authenticate
from cdp.ratelimit import RateLimiter
from cdp.settings import Settings
from resolvers import Context, build_schema

log = logging.getLogger("cdp")
KNOWN_KEYS_KEPT = 10_000  # fingerprints of working keys remembered by the sign-in limiter


def _graphql_error(status: int, code: str, message: str, **headers: str) -> JSONResponse:
    body = {"data": None, "errors": [{"message": message, "extensions": {"code": code}}]}
    return JSONResponse(body, status_code=status, headers=headers)


# The body the guard already parsed, for this request: strawberry is handed the object
# instead of parsing 150 KB of JSON a second time.
_PARSED: ContextVar[tuple[bytes, object] | None] = ContextVar("parsed_body", default=None)


class _GraphQLApp(GraphQL[Context, None]):
    limiter: RateLimiter  # the same per-key limit as HTTP requests

    def decode_json(self, data: str | bytes) -> object:
        parsed = _PARSED.get()
        if parsed is not None and parsed[0] is data:
            return parsed[1]
        return super().decode_json(data)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """As strawberry's, but its refusals (a GET mutation, say) are GraphQL-shaped
        JSON with a code, like every other error, instead of plain text."""
        if scope["type"] != "http":
            await super().__call__(scope, receive, send)
            return
        try:
            response = await self.run(Request(scope=scope, receive=receive))
        except HTTPException as error:
            response = _graphql_error(error.status_code, "BAD_USER_INPUT", error.reason)
        await response(scope, receive, send)

    async def get_context(self, request: Request | WebSocket, response: object) -> Context:
        # A WebSocket is signed in by its connection_init message (on_ws_connect).
        principal = getattr(request.state, "principal", ANONYMOUS)
        return Context(deps=request.app.state.deps, principal=principal)

    async def on_ws_connect(self, context: Context) -> dict[str, object] | None:
        """Sign a WebSocket in with the key its ``connection_init`` carries, as
        ``{"Authorization": "Bearer <key>"}`` (browsers cannot set headers on a
        WebSocket); refused (4403) without a valid key or over the key's rate."""
        params = context.connection_params or {}
        sent = params.get("Authorization") or params.get("authorization")
        deps = context.deps
        key = bearer_key(sent if isinstance(sent, str) else None)
        try:
            principal = await (
                deps.keys.principal(key) if deps.keys else authenticate(deps.stores, key)
            )
        except Exception as error:
            away = as_unavailable(error)
            if away is None:
                raise
            raise ConnectionRejectionError({"code": away.code, "message": away.message}) from None
        if principal is None:
            raise ConnectionRejectionError(
                {
                    "code": "UNAUTHENTICATED",
                    "message": "send a valid API key in connection_init as "
                    '{"Authorization": "Bearer <key>"}',
                }
            )
        if wait := self.limiter.retry_after(principal.key_id):
            raise ConnectionRejectionError(
                {"code": "RATE_LIMITED", "message": f"too many requests; retry in {wait} s"}
            )
        context.principal = principal
        return None

    def create_response(
        self, response_data: GraphQLHTTPResponse | list[GraphQLHTTPResponse], sub_response: Response
    ) -> Response:
        """A 503 with ``Retry-After`` when the database was away, so clients and load
        balancers retry; 200 otherwise, as GraphQL over HTTP has it."""
        response = super().create_response(response_data, sub_response)
        answers = response_data if isinstance(response_data, list) else [response_data]
        codes = {_code(error) for answer in answers for error in answer.get("errors") or []}
        if "SERVICE_UNAVAILABLE" in codes:
            response.status_code = 503
            response.headers["Retry-After"] = str(RETRY_AFTER_SECONDS)
        return response


class _Guarded:
    """Caps the body, authenticates the key and limits its rate, then runs GraphQL."""

    def __init__(
        self, graphql: _GraphQLApp, limiter: RateLimiter, failures: RateLimiter, max_body: int
    ) -> None:
        self.graphql, self.limiter, self.max_body = graphql, limiter, max_body
        self.failures = failures  # per client address: guessing keys costs a look-up each
        self.known: set[bytes] = set()  # fingerprints of keys that signed in lately

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        request = Request(scope, receive)
        if _asks_for_the_ide(request):
            scope.setdefault("state", {})["principal"] = ANONYMOUS
            await self.graphql(scope, receive, send)
            return
        body = await _read_capped(receive, self.max_body)
        if body is None:
            response: Response = _graphql_error(
                413, "BAD_USER_INPUT", f"the request body is over {self.max_body} bytes"
            )
            await response(scope, receive, send)
            return
        client = request.client.host if request.client else "unknown"
        sent = hashlib.sha256(request.headers.get("authorization", "").encode()).digest()
        if (wait := self.failures.waiting(client)) and sent not in self.known:
            response = _graphql_error(
                429,
                "RATE_LIMITED",
                f"too many requests without a valid API key from this address; retry in {wait} s",
                **{"Retry-After": str(wait)},
            )
            await response(scope, receive, send)
            return
        try:
            principal = await _principal(request)
        except Exception as error:
            away = as_unavailable(error)
            if away is None:
                raise
            response = _graphql_error(
                503, away.code, away.message, **{"Retry-After": str(RETRY_AFTER_SECONDS)}
            )
            await response(scope, receive, send)
            return
        refused = _malformed(request, body)
        if principal is None:
            self.failures.retry_after(client)
        elif len(self.known) < KNOWN_KEYS_KEPT:  # a key that works is never held back
            self.known.add(sent)
        if principal is None:
            response = _graphql_error(
                401,
                "UNAUTHENTICATED",
                "send a valid API key as 'Authorization: Bearer <key>'",
                **{"WWW-Authenticate": "Bearer"},
            )
        elif refused is not None:
            response = _graphql_error(refused.status, "BAD_USER_INPUT", refused.message)
        elif wait := self.limiter.retry_after(principal.key_id):
            response = _graphql_error(
                429,
                "RATE_LIMITED",
                f"too many requests; retry in {wait} s",
                **{"Retry-After": str(wait)},
            )
        else:
            scope.setdefault("state", {})["principal"] = principal
            await self.graphql(scope, _replay(body), send)
            return
        await response(scope, receive, send)


def _malformed(request: Request, body: bytes) -> Refusal | None:
    if request.method != "POST":
        return check_get(request.query_params)
    found = read_post(request.headers.get("content-type", ""), body)
    if isinstance(found, Refusal):
        return found
    _PARSED.set((body, found))
    return None


def _code(error: object) -> object:
    extensions = error.get("extensions") if isinstance(error, dict) else None
    return extensions.get("code") if isinstance(extensions, dict) else None


def _asks_for_the_ide(request: Request) -> bool:
    """GraphiQL itself loads without a key; the user pastes one into it."""
    accepts_html = "text/html" in request.headers.get("accept", "")
    return request.method == "GET" and accepts_html and "query" not in request.query_params


async def _principal(request: Request) -> Principal | None:
    deps: Deps = request.app.state.deps
    key = bearer_key(request.headers.get("authorization"))
    if deps.keys is None:
        return await authenticate(deps.stores, key)
    return await deps.keys.principal(key)


async def _read_capped(receive: Receive, limit: int) -> bytes | None:
    """The whole request body, or None as soon as it grows past ``limit`` bytes."""
    chunks, size, more = [], 0, True
    while more:
        message = await receive()
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > limit:
            return None
        chunks.append(chunk)
        more = message.get("more_body", False)
    return b"".join(chunks)


def _replay(body: bytes) -> Receive:
    sent = False

    async def receive() -> Message:
        nonlocal sent
        if sent:
            return {"type": "http.disconnect"}
        sent = True
        return {"type": "http.request", "body": body, "more_body": False}

    return receive


async def _healthz(request: Request) -> Response:
    deps: Deps | None = getattr(request.app.state, "deps", None)
    engine = getattr(request.app.state, "engine", None)
    if deps is not None and await deps.database_ready():
        return JSONResponse({"status": "ok", "database": "up", "engine": engine})
    return JSONResponse(
        {"status": "unavailable", "database": "down", "engine": engine}, status_code=503
    )


async def _console(request: Request) -> Response:
    page = resources.files("cdp.console").joinpath("index.html").read_text(encoding="utf-8")
    return HTMLResponse(page)


def create_app(settings: Settings, engine: str | None = None) -> Starlette:
    """Build the service; nothing touches the database until the lifespan starts.

    ``engine`` names the database when the caller started it (``cdp serve`` starts the
    embedded one itself); otherwise the lifespan starts it or asks the server.
    """

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        async with bootstrap.service(settings, engine) as running:
            app.state.engine = running.engine
            app.state.deps = running.deps
            yield

    graphql = _GraphQLApp(
        build_schema(settings.graphql_limits()),
        subscription_protocols=(GRAPHQL_TRANSPORT_WS_PROTOCOL,),  # the older one is deprecated
    )
    limiter = RateLimiter(settings.rate_limit_per_minute, settings.rate_limit_burst)
    graphql.limiter = limiter
    failures = RateLimiter(settings.auth_failures_per_minute, settings.auth_failures_per_minute)
    guarded = _Guarded(graphql, limiter, failures, settings.max_body_bytes)
    routes = [
        Route("/graphql", guarded, methods=["GET", "POST"]),
        # Subscriptions: signed in by their connection_init message (on_ws_connect).
        WebSocketRoute("/graphql", graphql),
        Route("/healthz", _healthz, methods=["GET"]),
        Route("/", _console, methods=["GET"]),
    ]
    return Starlette(routes=routes, lifespan=lifespan)
