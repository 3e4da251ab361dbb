"""The composition root: the one place that turns settings into running dependencies.

The service (:mod:`cdp.app`), the command line (:mod:`cdp.cli`), the tests and the
benchmarks all build the client, the indexes, the stores, the policies derived from
settings, the clock, the refresher and the ingest queue here, so a new dependency is
wired once and every entry point gets it (cosmicpython's ``bootstrap.py`` is the model).
Nothing here decides anything about customers; it only assembles.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Sequence
from contextlib import ExitStack, asynccontextmanager
from dataclasses import dataclass

from cdp.clock import Clock, utc_now
from cdp.deps import Deps
from cdp.events import EventRules
from cdp.ingest import IngestLimits, repair_unfinished
from cdp.ingest_queue import IngestQueue
from cdp.live import LiveFeed
from cdp.privacy.keys import KeyCache, ensure_bootstrap_key, first_admin_key
from cdp.profile.refresh import refresh_persons
from cdp.profile.refresher import Refresher
from cdp.settings import Settings
from cdp.store import Stores
from cdp.store.changes import changes
from cdp.store.database import (
    CommandListener,
    Database,
    connect,
    ensure_indexes,
    ping,
    server_version,
)
from cdp.store.embedded import RunningDatabase, database_uri

log = logging.getLogger("cdp")


def ingest_limits(settings: Settings) -> IngestLimits:
    """What one event and one batch may be, and the identity rules, from settings."""
    return IngestLimits(
        rules=EventRules(
            default_phone_region=settings.default_phone_region,
            max_properties_bytes=settings.max_properties_bytes,
        ),
        max_batch_size=settings.max_batch_size,
        identity=settings.identity(),
    )


@asynccontextmanager
async def database(
    uri: str, name: str, listeners: Sequence[CommandListener] = ()
) -> AsyncIterator[Database]:
    """A database on the running event loop with every index the queries rely on."""
    client = connect(uri, listeners)
    try:
        db = client[name]
        await ensure_indexes(db)
        yield db
    finally:
        await client.close()


def stores(db: Database, settings: Settings, engine: str) -> Stores:
    """The stores of ``db`` with this deployment's cache freshness and stitching lock
    (``engine`` is "external" for a database named by URI)."""
    return Stores.on(
        db,
        catalogue_check_seconds=settings.offer_cache_seconds,
        stats_seconds=settings.offer_stats_seconds,
        remember_seconds=settings.shared_cache_seconds,
        shared=settings.stitching_shared(engine),
    )


@asynccontextmanager
async def running_database(settings: Settings) -> AsyncIterator[RunningDatabase]:
    """The database settings name, or the embedded one started (and stopped) for it."""
    started = ExitStack()
    running = await asyncio.to_thread(
        started.enter_context,
        database_uri(
            settings.mongodb_uri,
            settings.data_dir,
            settings.embedded_start_timeout,
            settings.embedded_engine,
        ),
    )
    try:
        yield running
    finally:
        await asyncio.to_thread(started.close)


@asynccontextmanager
async def offline(settings: Settings) -> AsyncIterator[Stores]:
    """Stores for a command that works on the database directly (``cdp recompute``)."""
    async with (
        running_database(settings) as running,
        database(running.uri, settings.db_name) as db,
    ):
        yield stores(db, settings, running.engine)


@dataclass(frozen=True, slots=True)
class Service:
    """A started service: what every request gets, and which database engine serves it."""

    deps: Deps
    engine: str


def request_deps(
    built: Stores,
    db: Database,
    settings: Settings,
    clock: Clock = utc_now,
    refresher: Refresher | None = None,
    live: LiveFeed | None = None,
    limits: IngestLimits | None = None,
) -> Deps:
    """What every request is handed; without a refresher every call refreshes its
    persons before it answers (what a test of one flow wants). ``limits``: the ones the
    caller already derived from ``settings`` (the refresher's repair uses them too)."""
    limits = limits or ingest_limits(settings)
    return Deps(
        stores=built,
        limits=limits,
        database_ready=lambda: ping(db),
        offers=settings.offer_policy(),
        refresher=refresher,
        keys=KeyCache(built),
        ingest=IngestQueue(built, limits, refresher, clock),
        clock=clock,
        live=live,
    )


@asynccontextmanager
async def service(
    settings: Settings, engine: str | None = None, clock: Clock = utc_now
) -> AsyncIterator[Service]:
    """Start everything a serving instance runs: the database (embedded when no URI is
    given), indexes, API keys, the background refresher; stop them in reverse.

    ``engine`` names the database when the caller started it (``cdp serve`` starts the
    embedded one itself).
    """
    async with (
        running_database(settings) as running,
        database(running.uri, settings.db_name) as db,
    ):
        label = engine or (
            running.engine
            if running.engine != "external"
            else f"MongoDB {await server_version(db)} (external)"
        )
        log.info("database: %s", label)
        built = stores(db, settings, running.engine)
        await prepare_keys(built, settings, clock)
        limits = ingest_limits(settings)
        refresher = Refresher(
            lambda persons, now: refresh_persons(built, persons, now),
            built.persons.pending,
            clock,
            settings.refresh_policy(),
            repair=lambda before: repair_unfinished(built, limits, before, clock()),
        )
        refresher.start()
        live = LiveFeed(lambda resume_after: changes(db, resume_after))
        demo = (
            asyncio.create_task(_demo_on_first_start(built, limits, settings, clock))
            if settings.demo
            else None
        )
        try:
            deps = request_deps(built, db, settings, clock, refresher, live, limits)
            yield Service(deps, label)
        finally:
            if demo is not None:
                demo.cancel()
                await asyncio.gather(demo, return_exceptions=True)
            await live.stop()
            await refresher.stop()


async def _demo_on_first_start(
    built: Stores, limits: IngestLimits, settings: Settings, clock: Clock
) -> None:
    """Demo customers for a first start, loaded while the service already answers (a
    failure is logged, never fatal: the service is what the user came for)."""
    from cdp.demo.load import load_on_first_start  # only a first start pays for the import

    try:
        report = await load_on_first_start(
            built, limits, settings.offer_policy(), persons=settings.demo_persons, now=clock()
        )
    except Exception:
        log.exception("demo: loading the demo customers failed; the service goes on without")
        return
    if report is not None:
        log.info(
            "demo: %d demo customers and %d events loaded in %.1f s (CDP_DEMO=0 starts empty)",
            report.persons,
            report.accepted + report.duplicates,
            report.seconds,
        )


async def prepare_keys(built: Stores, settings: Settings, clock: Clock) -> None:
    """The configured bootstrap key, or a first admin key when none exists (shown once)."""
    if settings.bootstrap_admin_key:
        await ensure_bootstrap_key(built, settings.bootstrap_admin_key, clock())
    made = await first_admin_key(built, clock())
    if made is not None:
        print(
            "cdp: no API keys existed, so a local admin key was created. It is shown only now:\n"
            f"cdp:   Authorization: Bearer {made.key}",
            flush=True,
        )
