"""The service as users get it, for benchmarks: ``cdp serve`` over HTTP, side by side with
the raw driver on the same database server.

:func:`serving` starts one embedded server (the default engine, a throwaway folder), then
``cdp serve`` in its own process pointed at it (``CDP_MONGODB_URI``), and yields both the
HTTP client and a driver connection to the very database the service writes to, so every
ratio compares the two on one server in one run.
"""

from __future__ import annotations

import asyncio
import os
import platform
import signal
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import psutil
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import PyMongoError

import cdp
from cdp.store.database import Document, connect
from cdp.store.embedded import EmbeddedServer

ADMIN_KEY = "cdp_bench-admin-key-not-for-production"
CDP = Path(sys.executable).with_name("cdp")
# The checkout whose code this benchmark imported (a worktree's, when run from one): the
# service is made to import the same, where the ``cdp`` script alone would import the
# installed checkout's and compare it with itself.
SOURCE = Path(cdp.__file__).resolve().parents[1]
OPERATIONS = Path(__file__).resolve().parents[1] / "schema" / "operations"


def operation(name: str) -> str:
    return (OPERATIONS / f"{name}.graphql").read_text()


@dataclass
class Running:
    """A service under test: its HTTP client, the database it writes, and the engine."""

    http: httpx.AsyncClient
    db: AsyncDatabase[Document]
    engine: str
    server: EmbeddedServer
    service_pid: int


@dataclass(frozen=True)
class Work:
    """CPU seconds the service, its database and this process spent since :func:`cpu_work`."""

    service: float
    database: float
    client: float

    @property
    def total(self) -> float:
        return self.service + self.database + self.client


def cpu_work(running: Running) -> Callable[[], Work]:
    """Start counting the CPU time of the service, its database and this process; the
    function returned tells what each spent since. A rate is bounded by the work it takes
    over the cores there are (all three share this machine's): that bound says whether
    a target is out of reach for the work as it is, whatever the waits between them."""
    database = running.server.pid
    if database is None:
        raise RuntimeError("the database server is not running")
    processes = [psutil.Process(running.service_pid), psutil.Process(database)]

    def used() -> tuple[float, float, float]:
        service, database = (sum(p.cpu_times()[:2]) for p in processes)
        return service, database, time.process_time()

    start = used()

    def since() -> Work:
        now = used()
        return Work(*(b - a for a, b in zip(start, now, strict=True)))

    return since


def machine(engine: str) -> str:
    """The machine column of a BENCHMARKS.md row."""
    return (
        f"{platform.machine()}, {os.cpu_count()} cores, CPython {platform.python_version()}, "
        f"{engine}"
    )


def today() -> str:
    return f"{datetime.now(UTC):%Y-%m-%d}"


@asynccontextmanager
async def serving(
    env: dict[str, str] | None = None, server_flags: Sequence[str] = ()
) -> AsyncIterator[Running]:
    """``cdp serve`` on a throwaway embedded server (given ``server_flags`` beside its
    own), with ``env`` added to its settings."""
    server = EmbeddedServer(None, extra_flags=server_flags)
    uri = server.start()
    name = f"bench_{uuid.uuid4().hex[:10]}"
    port = _free_port()
    log = Path(tempfile.gettempdir()) / f"cdp-bench-{port}.log"
    settings = {
        "CDP_MONGODB_URI": uri,
        "CDP_DB_NAME": name,
        "CDP_PORT": str(port),
        "CDP_BOOTSTRAP_ADMIN_KEY": ADMIN_KEY,
        "CDP_RATE_LIMIT_PER_MINUTE": "10000000",
        "CDP_RATE_LIMIT_BURST": "1000000",
        "CDP_DEMO": "0",
        # One instance on its own database, as `make run` serves the embedded one (the
        # URI is only so this process can read the same server side by side).
        "CDP_STITCH_LOCK": "local",
        **(env or {}),
    }
    clean = {k: v for k, v in os.environ.items() if not k.startswith("CDP_")}
    clean["PYTHONPATH"] = os.pathsep.join(filter(None, [str(SOURCE), clean.get("PYTHONPATH")]))
    with log.open("w") as output:
        process = subprocess.Popen(  # noqa: ASYNC220 - once, before anything is measured
            [str(CDP), "serve"],
            env={**clean, **settings},
            stdout=output,
            stderr=subprocess.STDOUT,
        )
    client = connect(uri)
    http = httpx.AsyncClient(
        base_url=f"http://127.0.0.1:{port}",
        headers={"Authorization": f"Bearer {ADMIN_KEY}"},
        timeout=httpx.Timeout(600.0),
        limits=httpx.Limits(max_connections=300, max_keepalive_connections=300),
    )
    try:
        deadline = time.monotonic() + 60
        while True:
            if process.poll() is not None:
                raise RuntimeError(f"cdp serve exited:\n{log.read_text()}")
            try:
                if (await http.get("/healthz")).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError(f"cdp serve did not start:\n{log.read_text()}")
            await asyncio.sleep(0.1)
        yield Running(http, client[name], server.label, server, process.pid)
    finally:
        await http.aclose()
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
        await client.drop_database(name)
        await client.close()
        server.stop()


async def graphql(http: httpx.AsyncClient, query: str, **variables: Any) -> dict[str, Any]:
    """POST a document; fail loudly on any error (a benchmark of errors measures nothing)."""
    response = await http.post("/graphql", json={"query": query, "variables": variables})
    body: dict[str, Any] = response.json()
    if response.status_code != 200 or body.get("errors"):
        raise RuntimeError(f"HTTP {response.status_code}: {str(body)[:500]}")
    data: dict[str, Any] = body["data"]
    return data


async def refreshed(running: Running, poll: float = 0.1) -> None:
    """Wait until the service's refresher has caught up: no live profile is pending."""
    pending = {"pending_since": {"$ne": None}, "merged_into": None}
    while await running.db["persons"].count_documents(pending):  # noqa: ASYNC110
        await asyncio.sleep(poll)  # another process's work, seen through the database


async def settled(db: AsyncDatabase[Document], longest: float = 180.0) -> float:
    """Wait until the server has pruned the oplog the seeding grew; returns the seconds
    waited.

    The embedded Rust server keeps at most 100,000 oplog entries and prunes the excess
    in the background, about 10,000 a second, slowing every write while it does:
    measured after 250,000 inserts, `insert_one` p95 133 ms and max 1.3 s for some 20 s,
    against 0.8 ms before and after. Seeding 100,000 persons writes several times that,
    so a latency measured straight after it measured the pruning, not the service (raw
    p95 of 100 to 480 ms at 100,000 persons). Settled: the entry count stopped falling.
    A server without a readable oplog is settled at once.
    """
    oplog = db.client["local"]["oplog.rs"]
    started = time.monotonic()
    try:
        before = await oplog.estimated_document_count()
    except PyMongoError:  # no oplog to read: nothing to wait for
        return 0.0
    while time.monotonic() - started < longest:
        await asyncio.sleep(1.0)
        now = await oplog.estimated_document_count()
        if now > before - 1_000:
            break
        before = now
    waited = time.monotonic() - started
    print(f"server settled after {waited:.0f} s (oplog pruned)", file=sys.stderr)
    return waited


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])
