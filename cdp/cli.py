"""The ``cdp`` command: ``cdp serve`` runs the service; ``cdp schema`` prints the SDL."""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Sequence

import uvicorn
from pydantic import ValidationError

from cdp.settings import Settings
from cdp.store.embedded import EmbeddedServerError


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

    print(f"cdp: serving on http://{settings.host}:{settings.port} (GraphQL at /graphql)")
    try:
        uvicorn.run(create_app(settings), host=settings.host, port=settings.port, log_level="info")
    except EmbeddedServerError as error:
        print(f"cdp: cannot start the embedded database: {error}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
