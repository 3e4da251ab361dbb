"""The web application: GraphQL at ``/graphql``, health at ``/healthz``, the console at ``/``.

:func:`create_app` builds the HTTP edge from a :class:`Settings` object; its lifespan
asks the composition root (:mod:`cdp.bootstrap`) for the running service (database,
indexes, keys, refresher) and hands its :class:`Deps` to every request. ``/graphql``
over HTTP passes three small layers before GraphQL runs, each with one job: the body
is capped (413), the caller signed in (401, 429: :class:`_SignIn`, which WebSocket
subscriptions share), the request checked to be GraphQL over HTTP (400, 415).
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from importlib import resources

import orjson
from cross_web import HTTPException  # what strawberry raises for a refused request
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response
from starlette.routing import Mount, Route, WebSocketRoute
from starlette.staticfiles import StaticFiles
from starlette.types import ASGIApp, Message, Receive, Scope, Send
from starlette.websockets import WebSocket
from strawberry.asgi import GraphQL
from strawberry.exceptions import ConnectionRejectionError
from strawberry.http import GraphQLHTTPResponse
from strawberry.subscriptions import GRAPHQL_TRANSPORT_WS_PROTOCOL

from cdp import bootstrap
from cdp.availability import RETRY_AFTER_SECONDS, as_unavailable
from cdp.deps import Deps
from cdp.graphql_request import Refusal, check_get, read_post
from cdp.privacy.access import ANONYMOUS, Principal, bearer_key
from cdp.privacy.keys import authenticate
from cdp.privacy.ratelimit import RateLimiter
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
    sign_in: _SignIn  # the same key check as HTTP requests

    async def render_graphql_ide(self, request: Request) -> Response:
        """GraphiQL with its assets served from the project itself (no CDN: it works on a
        machine without internet), signed in with the console's key."""
        return HTMLResponse(_console_page("graphiql.html"))

    def encode_json(self, data: object) -> str:
        """Answers encoded by orjson: a tenth of a profile read's CPU was the standard
        library's encoder. Keys that are not text (from a stored JSON value) are written
        as text rather than refused. Text, not bytes: WebSocket messages must be text
        frames (graphql-transport-ws)."""
        return orjson.dumps(data, option=orjson.OPT_NON_STR_KEYS).decode()

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
        client = request.client.host if request.client else "unknown"
        return Context(deps=request.app.state.deps, principal=principal, client=client)

    async def on_ws_connect(self, context: Context) -> dict[str, object] | None:
        """Sign a WebSocket in with the key its ``connection_init`` carries, as
        ``{"Authorization": "Bearer <key>"}`` (browsers cannot set headers on a
        WebSocket), through the same check as HTTP. A refusal closes the socket with
        code 4403 ("Forbidden": strawberry's graphql-transport-ws handler sends no
        reason), and the reason is logged."""
        params = context.connection_params or {}
        sent = params.get("Authorization") or params.get("authorization")
        signed = await self.sign_in(
            context.deps, sent if isinstance(sent, str) else None, context.client
        )
        if isinstance(signed, _Refused):
            log.info("a WebSocket from %s was refused: %s", context.client, signed.code)
            raise ConnectionRejectionError({"code": signed.code, "message": signed.message})
        context.principal = signed
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


@dataclass(frozen=True, slots=True)
class _Refused:
    """Why the edge turned a caller away: the HTTP status, the code and the sentence."""

    status: int
    code: str
    message: str
    headers: dict[str, str] = field(default_factory=dict)

    def response(self) -> Response:
        return _graphql_error(self.status, self.code, self.message, **self.headers)


class _SignIn:
    """The edge's one key check, for an HTTP request and a WebSocket's connection_init
    alike: an address that keeps sending unknown keys is slowed down (guessing costs a
    look-up each), the key is looked up (cached for a second), and its rate limited."""

    def __init__(self, limiter: RateLimiter, failures: RateLimiter) -> None:
        self.limiter, self.failures = limiter, failures  # per key; per client address
        self.known: set[bytes] = set()  # fingerprints of keys that signed in lately

    async def __call__(
        self, deps: Deps, authorization: str | None, client: str
    ) -> Principal | _Refused:
        sent = hashlib.sha256((authorization or "").encode()).digest()
        if (wait := self.failures.waiting(client)) and sent not in self.known:
            return _Refused(
                429,
                "RATE_LIMITED",
                f"too many requests without a valid API key from this address; retry in {wait} s",
                {"Retry-After": str(wait)},
            )
        key = bearer_key(authorization)
        try:
            principal = await (
                deps.keys.principal(key) if deps.keys else authenticate(deps.stores, key)
            )
        except Exception as error:
            away = as_unavailable(error)
            if away is None:
                raise
            return _Refused(503, away.code, away.message, {"Retry-After": str(RETRY_AFTER_SECONDS)})
        if principal is None:
            self.failures.retry_after(client)
            return _Refused(
                401,
                "UNAUTHENTICATED",
                "send a valid API key as 'Authorization: Bearer <key>'",
                {"WWW-Authenticate": "Bearer"},
            )
        if len(self.known) < KNOWN_KEYS_KEPT:  # a key that works is never held back
            self.known.add(sent)
        if wait := self.limiter.retry_after(principal.key_id):
            return _Refused(
                429,
                "RATE_LIMITED",
                f"too many requests; retry in {wait} s",
                {"Retry-After": str(wait)},
            )
        return principal


class _CapBody:
    """Reads a ``/graphql`` request body whole, up to ``max_body`` bytes (413 beyond),
    and hands it on to be read again; what lies behind never sees a stream cut short."""

    def __init__(self, app: ASGIApp, max_body: int) -> None:
        self.app, self.max_body = app, max_body

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if _asks_for_the_ide(Request(scope)):
            await self.app(scope, receive, send)
            return
        body = await _read_capped(receive, self.max_body)
        if body is None:
            refused = _Refused(
                413, "BAD_USER_INPUT", f"the request body is over {self.max_body} bytes"
            )
            await refused.response()(scope, receive, send)
            return
        scope.setdefault("state", {})["body"] = body
        await self.app(scope, _replay(body), send)


class _Authenticate:
    """Signs the caller in with its ``Authorization`` header (:class:`_SignIn`, the
    same check a WebSocket's connection_init goes through); GraphiQL's page is open."""

    def __init__(self, app: ASGIApp, sign_in: _SignIn) -> None:
        self.app, self.sign_in = app, sign_in

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        request = Request(scope)
        if _asks_for_the_ide(request):
            signed: Principal | _Refused = ANONYMOUS
        else:
            signed = await self.sign_in(
                request.app.state.deps,
                request.headers.get("authorization"),
                request.client.host if request.client else "unknown",
            )
        if isinstance(signed, _Refused):
            await signed.response()(scope, receive, send)
            return
        scope.setdefault("state", {})["principal"] = signed
        await self.app(scope, receive, send)


class _CheckShape:
    """Refuses a request that is not GraphQL over HTTP (a GET without a query, a body
    that is not a JSON object, a wrong content type) with a 400 or 415 and a sentence,
    before strawberry; the JSON it parsed is handed to strawberry (:data:`_PARSED`)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        request = Request(scope)
        if not _asks_for_the_ide(request):
            malformed = _malformed(request, scope.get("state", {}).get("body", b""))
            if malformed is not None:
                refused = _Refused(malformed.status, "BAD_USER_INPUT", malformed.message)
                await refused.response()(scope, receive, send)
                return
        await self.app(scope, receive, send)


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


def _console_page(name: str) -> str:
    return resources.files("cdp.console").joinpath(name).read_text(encoding="utf-8")


# The console runs only its own scripts (no inline script, nothing from elsewhere), so
# text a customer typed can never run as code in an agent's browser, where the key is.
CONSOLE_HEADERS = {
    "Content-Security-Policy": "default-src 'self'; script-src 'self'; "
    "style-src 'self' 'unsafe-inline'; connect-src 'self'; img-src 'self' data:; "
    "frame-ancestors 'none'; base-uri 'none'; form-action 'self'",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
}


async def _console(request: Request) -> Response:
    return HTMLResponse(_console_page("index.html"), headers=CONSOLE_HEADERS)


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
    failures = RateLimiter(settings.auth_failures_per_minute, settings.auth_failures_per_minute)
    graphql.sign_in = _SignIn(limiter, failures)
    # the HTTP edge, outermost first: the body capped, the caller signed in, the request
    # checked to be GraphQL over HTTP, then strawberry
    guarded = _CapBody(
        _Authenticate(_CheckShape(graphql), graphql.sign_in), settings.max_body_bytes
    )
    routes = [
        Route("/graphql", guarded, methods=["GET", "POST"]),
        # Subscriptions: signed in by their connection_init message (on_ws_connect).
        WebSocketRoute("/graphql", graphql),
        Route("/healthz", _healthz, methods=["GET"]),
        Route("/", _console, methods=["GET"]),
        # the console's scripts, styles and vendored libraries (no CDN, no build step)
        Mount(
            "/console/static",
            StaticFiles(directory=str(resources.files("cdp.console").joinpath("static"))),
        ),
    ]
    return Starlette(routes=routes, lifespan=lifespan)
