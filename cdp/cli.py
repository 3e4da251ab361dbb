"""The ``cdp`` command: ``cdp serve`` runs the service; ``cdp schema`` prints the SDL."""

from __future__ import annotations

import argparse
import logging
import signal
import sys
from collections.abc import Sequence

import uvicorn
from pydantic import ValidationError

from cdp.settings import Settings
from cdp.store.embedded import EmbeddedServerError, database_uri


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="cdp", description="Customer data platform service.")
    commands = parser.add_subparsers(dest="command", required=True)
    serve = commands.add_parser("serve", help="serve GraphQL, /healthz and the console")
    serve.add_argument("--host", help="bind address (default: CDP_HOST or 127.0.0.1)")
    serve.add_argument("--port", type=int, help="port (default: CDP_PORT or 8000)")
    commands.add_parser("schema", help="print the GraphQL schema (SDL)")
    args = parser.parse_args(argv)

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

    # uvicorn re-raises SIGTERM after its graceful shutdown; with the default action the
    # process would die before the embedded server below is stopped, leaving it holding
    # the data directory. Exiting normally lets the ``with`` block clean up.
    signal.signal(signal.SIGTERM, _exit_on_sigterm)
    try:
        # Started here rather than in the app's lifespan so that a failure is one clear
        # message and exit code 1, not a server traceback.
        with database_uri(
            settings.mongodb_uri, settings.data_dir, settings.embedded_start_timeout
        ) as uri:
            if settings.mongodb_uri is None:
                print(f"cdp: embedded database running, data in {settings.data_dir.resolve()}")
            app = create_app(settings.model_copy(update={"mongodb_uri": uri}))
            print(f"cdp: serving on http://{settings.host}:{settings.port} (GraphQL at /graphql)")
            uvicorn.run(app, host=settings.host, port=settings.port, log_level="info")
    except EmbeddedServerError as error:
        print(f"cdp: cannot start the embedded database: {error}", file=sys.stderr)
        return 1
    return 0


def _exit_on_sigterm(signum: int, frame: object) -> None:
    raise SystemExit(0)


if __name__ == "__main__":
    sys.exit(main())
