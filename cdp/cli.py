"""The ``cdp`` command: ``serve`` runs the service; ``demo``, ``import``, ``recompute``,
``keys``, ``offers`` and ``doctor`` work on its data; ``schema`` prints the SDL."""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import signal
import sys
from collections.abc import Awaitable, Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import uvicorn
from pydantic import ValidationError

from cdp.settings import Settings
from cdp.store.embedded import EmbeddedServerError, database_uri

if TYPE_CHECKING:
    from cdp.store import Stores


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="cdp", description="Customer data platform service.")
    commands = parser.add_subparsers(dest="command", required=True)
    serve = commands.add_parser("serve", help="serve GraphQL, /healthz and the console")
    serve.add_argument("--host", help="bind address (default: CDP_HOST or 127.0.0.1)")
    serve.add_argument("--port", type=int, help="port (default: CDP_PORT or 8000)")
    commands.add_parser("schema", help="print the GraphQL schema (SDL)")
    keys = commands.add_parser("keys", help="create, list and revoke API keys")
    key_commands = keys.add_subparsers(dest="action", required=True)
    create = key_commands.add_parser("create", help="create a key and print it once")
    create.add_argument("--name", required=True, help="who or what uses the key")
    create.add_argument("--scopes", required=True, help="e.g. events:write,profiles:read")
    key_commands.add_parser("list", help="list keys (never the keys themselves)")
    revoke = key_commands.add_parser("revoke", help="revoke a key by id")
    revoke.add_argument("id")
    recompute = commands.add_parser(
        "recompute",
        help="recompute metrics and segment memberships in bulk, with progress (what is due: "
        "changed, or computed before today)",
    )
    recompute.add_argument("--full", action="store_true", help="recompute every person, due or not")
    demo = commands.add_parser(
        "demo",
        help="load demo customers (several channels, baskets, campaigns, consents) into the "
        "database, then fit the models; safe to run again",
    )
    demo.add_argument("--persons", type=int, default=1000, help="how many (default 1000)")
    demo.add_argument("--seed", type=int, default=1, help="the same seed, the same people")
    demo.add_argument(
        "--out",
        type=Path,
        help="write the events as JSON Lines for `cdp import` instead (no database needed; "
        "consents and models are not in the file)",
    )
    commands.add_parser(
        "doctor",
        help="which database and engine, its version, collections with their counts and "
        "indexes, and whether the service answers",
    )
    load = commands.add_parser(
        "import",
        help="import event history from a JSON Lines or CSV file through a running "
        "service: streamed, resumable, idempotent, with a progress bar",
    )
    load.add_argument("file", type=Path, help="JSON Lines of EventInput, or CSV with --mapping")
    load.add_argument(
        "--format",
        choices=["auto", "jsonl", "csv"],
        default="auto",
        help="auto: csv for a .csv file, else jsonl",
    )
    load.add_argument("--mapping", type=Path, help="for CSV: which column is what (README)")
    load.add_argument("--url", help="the service (default: http://127.0.0.1:<CDP_PORT or 8000>)")
    load.add_argument("--key", help="an API key with events:write (default: CDP_API_KEY)")
    load.add_argument(
        "--direct",
        action="store_true",
        help="write straight into the database (CDP_MONGODB_URI, or the embedded one) when "
        "no service runs; needs no key",
    )
    load.add_argument(
        "--mongodb-uri",
        help="with --direct (implied): the MongoDB to write into, instead of CDP_MONGODB_URI",
    )
    load.add_argument("--batch", type=int, default=500, help="events per call (default 500)")
    load.add_argument("--in-flight", type=int, default=2, help="calls at once (default 2)")
    offers = commands.add_parser("offers", help="work with next-best-offer's logs")
    offer_commands = offers.add_subparsers(dest="action", required=True)
    evaluate = offer_commands.add_parser(
        "evaluate",
        help="estimate, from the logged answers, the acceptances per answer other "
        "exploration shares would have earned (inverse propensity scoring and doubly "
        "robust, with 95%% intervals)",
    )
    evaluate.add_argument(
        "--exploration",
        type=_share,
        nargs="+",
        default=[0.0, 0.1, 0.3, 1.0],
        help="exploration shares to evaluate, 0 to 1 (default: 0 0.1 0.3 1)",
    )
    evaluate.add_argument(
        "--days", type=int, default=90, help="answers logged in the last N days (default 90)"
    )
    send = offer_commands.add_parser(
        "campaign",
        help="each member of a segment with their best offer now, as JSON Lines, streamed "
        "with a progress bar (consent on the channel, caps and declines applied)",
    )
    send.add_argument("--segment", required=True, help="the segment id (see the segments query)")
    send.add_argument(
        "--channel",
        help="the campaign's channel, e.g. EMAIL (default: each person's preferred consented one)",
    )
    send.add_argument("--out", type=Path, required=True, help="the JSON Lines file to write")
    send.add_argument(
        "--record",
        action="store_true",
        help="record each offer as SHOWN (caps count it; offline evaluation reads it)",
    )
    backtest = offer_commands.add_parser(
        "backtest",
        help="back-test co-purchase offers against popularity on a basket file (hit and "
        "precision at 3 and 10); needs no database",
    )
    backtest.add_argument(
        "--baskets",
        type=Path,
        required=True,
        help="one basket per line, items separated by commas (the Groceries format)",
    )
    backtest.add_argument("--min-count", type=int, default=20, help="baskets a rule needs")
    backtest.add_argument("--min-confidence", type=float, default=0.1)
    args = parser.parse_args(argv)

    if args.command == "keys":
        return _keys(args)
    if args.command == "recompute":
        return _recompute(full=args.full)
    if args.command == "demo":
        return _demo(persons=args.persons, seed=args.seed, out=args.out)
    if args.command == "import":
        return _import(args)
    if args.command == "doctor":
        return _doctor()
    if args.command == "offers" and args.action == "campaign":
        return _campaign(args.segment, args.channel, args.out, record=args.record)
    if args.command == "offers" and args.action == "backtest":
        return _backtest(args.baskets, args.min_count, args.min_confidence)
    if args.command == "offers":
        return _evaluate_offers(args.exploration, args.days)

    if args.command == "schema":
        from resolvers.schema import sdl

        sys.stdout.write(sdl())
        return 0

    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    try:
        settings = Settings()
    except ValidationError as error:
        print(f"cdp: invalid configuration:\n{error}", file=sys.stderr)
        return 2
    overrides = {k: v for k, v in {"host": args.host, "port": args.port}.items() if v is not None}
    settings = settings.model_copy(update=overrides)

    from cdp.app import create_app
    from cdp.collector import tune_collector

    # uvicorn re-raises SIGTERM after its graceful shutdown; with the default action the
    # process would die before the embedded server below is stopped, leaving it holding
    # the data directory. Exiting normally lets the ``with`` block clean up.
    signal.signal(signal.SIGTERM, _exit_on_sigterm)
    try:
        # Started here rather than in the app's lifespan so that a failure is one clear
        # message and exit code 1, not a server traceback.
        with database_uri(
            settings.mongodb_uri,
            settings.data_dir,
            settings.embedded_start_timeout,
            settings.embedded_engine,
        ) as database:
            if settings.mongodb_uri is None:
                print(
                    f"cdp: embedded database running ({database.engine}), "
                    f"data in {settings.data_dir.resolve()}"
                )
            app = create_app(
                settings.model_copy(update={"mongodb_uri": database.uri}),
                engine=database.engine if settings.mongodb_uri is None else None,
            )
            print(f"cdp: serving on http://{settings.host}:{settings.port} (GraphQL at /graphql)")
            tune_collector(settings.gc_young_threshold)  # the app and its schema are built
            uvicorn.run(
                app,
                host=settings.host,
                port=settings.port,
                log_level="info",
                access_log=settings.access_log,
            )
    except EmbeddedServerError as error:
        print(f"cdp: cannot start the embedded database: {error}", file=sys.stderr)
        return 1
    return 0


def _keys(args: argparse.Namespace) -> int:
    """Manage keys directly in the database (the server must not hold the embedded one)."""
    from cdp.clock import utc_now
    from cdp.privacy.access import parse_scopes
    from cdp.privacy.keys import create_key, list_keys, revoke_key

    async def run(stores: Stores) -> None:
        if args.action == "create":
            made = await create_key(stores, args.name, parse_scopes(args.scopes), utc_now())
            print(f"id:  {made.id}\nkey: {made.key}\n(the key is shown only now)")
        elif args.action == "list":
            for doc in await list_keys(stores):
                state = (
                    f"revoked {doc['revoked_at']:%Y-%m-%d}" if doc.get("revoked_at") else "active"
                )
                print(f"{doc['_id']}  {doc['name']:<24} {','.join(doc['scopes']):<40} {state}")
        else:
            await revoke_key(stores, args.id, utc_now())
            print(f"revoked {args.id}")

    return _offline(
        "keys", run, "manage keys with the createApiKey, apiKeys and revokeApiKey mutations"
    )


def _recompute(*, full: bool) -> int:
    """Recompute every metric and membership, with a progress bar per stage."""
    from cdp.clock import utc_now
    from cdp.segments.recompute import recompute_all

    progress, close = _progress_bars()

    async def run(stores: Stores) -> None:
        report = await recompute_all(
            stores, utc_now(), progress, Settings().offer_policy(), full=full
        )
        close()
        print(
            f"{report.persons} persons ({report.recomputed} recomputed, {report.customers} "
            f"customers), {report.segments} segments: {report.entered} entered, "
            f"{report.left} left, in {report.seconds} s"
        )

    return _offline("recompute", run, "use the recomputeSegments mutation")


def _demo(*, persons: int, seed: int, out: Path | None) -> int:
    """Load demo customers with a progress bar per stage (or write their events)."""
    from cdp import bootstrap
    from cdp.clock import utc_now
    from cdp.demo.customers import demo_people
    from cdp.demo.load import load_demo

    if not 1 <= persons <= 100_000:
        print("cdp demo: --persons must be between 1 and 100000", file=sys.stderr)
        return 2
    if out is not None:
        try:
            with out.open("w", encoding="utf-8") as handle:
                for person in demo_people(persons, seed, utc_now()):
                    handle.writelines(json.dumps(event) + "\n" for event in person.events)
        except OSError as error:
            print(f"cdp demo: cannot write {out}: {error.strerror}", file=sys.stderr)
            return 2
        print(f"{persons} demo customers' events written to {out}")
        return 0
    progress, close = _progress_bars()
    settings = Settings()

    async def run(stores: Stores) -> None:
        report = await load_demo(
            stores,
            bootstrap.ingest_limits(settings),
            settings.offer_policy(),
            persons=persons,
            seed=seed,
            now=utc_now(),
            progress=progress,
        )
        close()
        print(
            f"{report.persons} demo customers: {report.accepted} events stored, "
            f"{report.duplicates} already there, {report.rejected} rejected, "
            f"in {report.seconds} s"
        )

    return _offline("demo", run, "write the events with --out FILE and `cdp import FILE`")


def _progress_bars() -> tuple[Callable[[str, int, int], None], Callable[[], None]]:
    """A tqdm bar per stage of a long command, and how to close them all."""
    from tqdm import tqdm

    bars: dict[str, tqdm[Any]] = {}

    def progress(stage: str, done: int, total: int) -> None:
        if stage not in bars:
            bars[stage] = tqdm(total=total, desc=stage, unit=" items")
        bars[stage].update(done - bars[stage].n)

    def close() -> None:
        for bar in bars.values():
            bar.close()

    return progress, close


def _share(text: str) -> float:
    try:
        share = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
    if not 0.0 <= share <= 1.0:
        raise argparse.ArgumentTypeError(f"{share} is not a share between 0 and 1")
    return share


def _doctor() -> int:
    """Say what this configuration runs on and whether it works."""
    import re

    import httpx

    from cdp.store.database import inventory, server_version
    from cdp.store.embedded import engine_version

    settings = Settings()
    where = (
        re.sub(r"//[^@/]*@", "//***@", settings.mongodb_uri)
        if settings.mongodb_uri
        else f"embedded {engine_version(settings.embedded_engine)}, data in {settings.data_dir}"
    )
    print(f"database:  {where}, database name {settings.db_name}")
    url = f"http://{settings.host}:{settings.port}/healthz"
    try:
        health = httpx.get(url, timeout=2.0).json()
        print(f"service:   {url} answers {health.get('status')} (engine {health.get('engine')})")
        serving = True
    except (httpx.HTTPError, ValueError):
        print(f"service:   nothing answers at {url}")
        serving = False
    if serving and not settings.mongodb_uri:
        print("contents:  the running service holds the embedded database; stop it to look inside")
        return 0

    async def run(stores: Stores) -> None:
        db = stores.database
        print(f"server:    MongoDB-compatible {await server_version(db)}")
        for name, (count, indexes) in (await inventory(db)).items():
            print(f"  {name:<20} {count:>10,} documents  indexes: {', '.join(indexes)}")

    return _offline("doctor", run, "stop the service or point CDP_MONGODB_URI at it")


def _import(args: argparse.Namespace) -> int:
    """Import a file through a running service (or straight into the database), with a
    progress bar and a summary."""
    import os
    import time

    from tqdm import tqdm

    from cdp.errors import CdpError
    from cdp.importing.rows import MappingError
    from cdp.importing.run import ImportFailed, Sender, Tally, import_file, through_service

    path: Path = args.file
    if not path.is_file():
        print(f"cdp import: {path} is not a file", file=sys.stderr)
        return 2
    fmt = args.format if args.format != "auto" else ("csv" if path.suffix == ".csv" else "jsonl")
    mapping = None
    if fmt == "csv":
        if args.mapping is None:
            print("cdp import: a CSV file needs --mapping (see the README)", file=sys.stderr)
            return 2
        try:
            mapping = json.loads(args.mapping.read_text())
        except (OSError, ValueError) as error:
            print(f"cdp import: cannot read the mapping {args.mapping}: {error}", file=sys.stderr)
            return 2
    direct = args.direct or args.mongodb_uri is not None
    key = args.key or os.environ.get("CDP_API_KEY")
    if not key and not direct:
        print(
            "cdp import: pass --key (or set CDP_API_KEY) with events:write, or --direct "
            "when no service runs",
            file=sys.stderr,
        )
        return 2
    settings = Settings()
    if args.mongodb_uri is not None:
        settings = settings.model_copy(update={"mongodb_uri": args.mongodb_uri})
    url = args.url or f"http://127.0.0.1:{settings.port}"
    total = sum(1 for _ in path.open("rb"))
    bar = tqdm(total=total, unit=" lines", desc=f"importing {path.name}")

    def progress(line: int, tally: object) -> None:
        bar.update(max(line - bar.n, 0))

    async def run(send: Sender) -> Tally:
        return await import_file(
            path,
            send,
            fmt=fmt,
            mapping=mapping,
            batch=args.batch,
            in_flight=args.in_flight,
            progress=progress,
        )

    async def through_http() -> Tally:
        async with through_service(url, key or "") as send:
            return await run(send)

    async def straight_in() -> Tally:
        from cdp import bootstrap
        from cdp.clock import utc_now
        from cdp.importing.direct import into_database

        async with bootstrap.offline(settings) as stores:
            return await run(into_database(stores, bootstrap.ingest_limits(settings), utc_now))

    started = time.perf_counter()
    try:
        tally = asyncio.run(straight_in() if direct else through_http())
    except EmbeddedServerError as error:
        bar.close()
        print(
            f"cdp import: cannot open the embedded database: {error}\n"
            "While `cdp serve` runs, import through it (without --direct) instead.",
            file=sys.stderr,
        )
        return 1
    except (ImportFailed, MappingError, CdpError) as error:
        bar.close()
        print(f"cdp import: {error} (run it again to carry on where it stopped)", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        bar.close()
        print("cdp import: interrupted; run it again to carry on where it stopped", file=sys.stderr)
        return 130
    bar.close()
    seconds = max(time.perf_counter() - started, 1e-9)
    rejected = f" (reasons in {path.name}.rejected.jsonl)" if tally.rejected else ""
    print(
        f"read {tally.read:,}, accepted {tally.accepted:,}, duplicates {tally.duplicates:,}, "
        f"rejected {tally.rejected:,}{rejected}; {len(tally.persons):,} persons touched, "
        f"{tally.persons_created:,} created, {tally.merges:,} merges; {seconds:.1f} s"
    )
    return 0 if tally.accepted + tally.duplicates else 1


def _campaign(segment: str, channel_name: str | None, out: Path, *, record: bool) -> int:
    """Write a segment's members with their best offer to a JSON Lines file."""
    import time

    from tqdm import tqdm

    from cdp.clock import utc_now
    from cdp.offers.campaign import campaign
    from cdp.records import Channel
    from cdp.segments.members import sizes

    try:
        channel = Channel(channel_name.upper()) if channel_name else None
    except ValueError:
        known = ", ".join(c.value for c in Channel)
        print(
            f"cdp offers campaign: --channel {channel_name!r} is not one of {known}",
            file=sys.stderr,
        )
        return 2
    settings = Settings()

    async def run(stores: Stores) -> None:
        total = (await sizes(stores, [segment])).get(segment, 0)
        started, members, written = time.perf_counter(), 0, 0
        now = utc_now()
        with out.open("w", encoding="utf-8") as sink, tqdm(total=total, unit=" persons") as bar:
            async for page in campaign(
                stores,
                segment,
                channel=channel,
                policy=settings.offer_policy(),
                now=now,
                record=record,
            ):
                for row in page.rows:
                    chosen = row.offer
                    offer = chosen.candidate.offer
                    line = {
                        "personId": row.profile.id,
                        "offerId": offer.id,
                        "offer": offer.name,
                        "sku": offer.sku,
                        "channel": chosen.channel,
                        "sendAt": chosen.send_at.isoformat(),
                        "reason": chosen.candidate.reason,
                        "probability": chosen.probability,
                        "propensity": chosen.propensity,
                        "decision": row.answer.decision(chosen).token(),
                    }
                    sink.write(json.dumps(line, ensure_ascii=False) + "\n")
                members += page.members
                written += len(page.rows)
                bar.update(page.members)
        seconds = max(time.perf_counter() - started, 1e-9)
        print(
            f"{members:,} members of {segment}, {written:,} with an offer written to {out} "
            f"in {seconds:.1f} s ({members / seconds:,.0f} persons/s)"
            + ("; each recorded as SHOWN" if record else "")
        )

    return _offline("offers campaign", run, "stop the service or point CDP_MONGODB_URI at it")


def _backtest(path: Path, min_count: int, min_confidence: float) -> int:
    """Print how co-purchase offers and popularity would have done on a basket file."""
    from cdp.offers.backtest import evaluate, from_lines

    try:
        train, cases = from_lines(path.read_text(encoding="utf-8").splitlines())
    except (OSError, UnicodeDecodeError) as error:
        print(f"cdp offers backtest: cannot read {path}: {error}", file=sys.stderr)
        return 2
    if not train or not cases:
        print(
            f"cdp offers backtest: {path} has {len(train)} training baskets and {len(cases)} "
            "baskets of two or more items to test on; it needs both",
            file=sys.stderr,
        )
        return 2
    scores = evaluate(train, cases, min_count, min_confidence)
    print(
        f"{len(train):,} baskets trained ({int(scores['rules'][0][0]):,} rules), "
        f"{len(cases):,} hidden items"
    )
    print("recommender | hit@3 | precision@3 | hit@10 | precision@10")
    for name in ("co-purchase", "popularity"):
        at = scores[name]
        print(f"{name:11} | {at[3][0]:.1%} | {at[3][1]:.1%} | {at[10][0]:.1%} | {at[10][1]:.1%}")
    return 0


def _evaluate_offers(shares: list[float], days: int) -> int:
    """Print what each exploration share would have earned on the logged answers."""
    from datetime import timedelta

    from cdp.clock import utc_now
    from cdp.offers.decisions import logged_answers
    from cdp.offers.evaluation import evaluate, observed

    async def run(stores: Stores) -> None:
        answers = await logged_answers(stores, utc_now() - timedelta(days=days))
        if not answers:
            print(
                f"no answers shown in the last {days} days: record SHOWN and ACCEPTED with "
                "recordOfferResponse(decision:) to evaluate"
            )
            return
        seen = observed(answers)
        print(
            f"{len(answers):,} answers shown in the last {days} days; accepted per answer "
            f"as logged: {seen.mean:.4f} ({seen.low:.4f} to {seen.high:.4f})"
        )
        print("exploration | IPS (95% interval)          | doubly robust (95% interval)")
        for share in shares:
            found = evaluate(answers, share)
            ips, dr = found.ips, found.doubly_robust
            print(
                f"{share:11.2f} | {ips.mean:.4f} ({ips.low:.4f} to {ips.high:.4f}) "
                f"| {dr.mean:.4f} ({dr.low:.4f} to {dr.high:.4f})"
            )

    return _offline("offers evaluate", run, "stop the service or point CDP_MONGODB_URI at it")


def _offline(command: str, work: Callable[[Stores], Awaitable[None]], instead: str) -> int:
    """Run ``work`` on the database directly, starting the embedded one if configured so."""
    from cdp import bootstrap
    from cdp.collector import tune_collector
    from cdp.errors import CdpError

    settings = Settings()

    async def run() -> None:
        async with bootstrap.offline(settings) as stores:
            await work(stores)

    tune_collector(settings.gc_young_threshold)  # a long run over many documents

    try:
        asyncio.run(run())
    except CdpError as error:
        print(f"cdp {command}: {error.message}", file=sys.stderr)
        return 2
    except EmbeddedServerError as error:
        print(
            f"cdp {command}: cannot open the embedded database: {error}\n"
            f"While `cdp serve` runs, {instead} instead.",
            file=sys.stderr,
        )
        return 1
    return 0


def _exit_on_sigterm(signum: int, frame: object) -> None:
    raise SystemExit(0)


if __name__ == "__main__":
    sys.exit(main())
