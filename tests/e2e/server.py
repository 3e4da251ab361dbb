"""Run ``cdp serve`` as a user would, in its own process, and talk to it over HTTP."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from tests.resolvers.graphql import operation

ADMIN_KEY = "cdp_e2e-admin-key-for-tests-only"
CDP = Path(sys.executable).with_name("cdp")


@dataclass
class Service:
    client: httpx.Client
    log: Path

    def output(self) -> str:
        return self.log.read_text(errors="replace")


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def environment(env: dict[str, str]) -> dict[str, str]:
    """This process's environment without any CDP_ setting, plus ``env``."""
    clean = {k: v for k, v in os.environ.items() if not k.startswith("CDP_")}
    return {**clean, "CDP_BOOTSTRAP_ADMIN_KEY": ADMIN_KEY, **env}


@dataclass
class Started:
    """A ``cdp serve`` process that answered /healthz, and a client for it."""

    process: subprocess.Popen[bytes]
    service: Service


def start_service(env: dict[str, str], cwd: Path) -> Started:
    """Start ``cdp serve`` and wait until /healthz answers 200 (or fail the test).
    Its output goes to a file (an unread pipe would block a chatty server)."""
    port = free_port()
    log = cwd / f"cdp-serve-{port}.log"
    with log.open("w") as output:
        process = subprocess.Popen(
            [str(CDP), "serve"],
            cwd=cwd,
            env={**environment(env), "CDP_PORT": str(port), "CDP_HOST": "127.0.0.1"},
            stdout=output,
            stderr=subprocess.STDOUT,
        )
    client = httpx.Client(
        base_url=f"http://127.0.0.1:{port}",
        timeout=30,
        headers={"Authorization": f"Bearer {ADMIN_KEY}"},
    )
    deadline = time.monotonic() + 60
    while True:
        if process.poll() is not None:
            client.close()
            raise AssertionError(f"cdp serve exited early:\n{log.read_text()}")
        try:
            if client.get("/healthz").status_code == 200:
                return Started(process, Service(client, log))
        except httpx.TransportError:
            pass
        if time.monotonic() > deadline:
            process.kill()
            client.close()
            raise AssertionError(f"cdp serve did not become healthy in time:\n{log.read_text()}")
        time.sleep(0.1)


@contextmanager
def serving(
    env: dict[str, str], cwd: Path, stop_with: signal.Signals = signal.SIGTERM
) -> Iterator[Service]:
    """Start ``cdp serve``, wait for /healthz, yield it; stop it with ``stop_with``
    (SIGTERM from a process manager, SIGINT from Ctrl-C) and expect a clean exit."""
    started = start_service(env, cwd)
    process, log = started.process, started.service.log
    try:
        yield started.service
    finally:
        started.service.client.close()
        process.send_signal(stop_with)
        try:
            returncode = process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
            raise AssertionError("cdp serve did not stop within 30 s") from None
    assert returncode == 0, f"cdp serve exited with {returncode}:\n{log.read_text()}"


def graphql(client: httpx.Client, name: str, /, **variables: Any) -> dict[str, Any]:
    """POST a documented operation; fail the test on any GraphQL error."""
    response = client.post("/graphql", json={"query": operation(name), "variables": variables})
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    assert "errors" not in body, body["errors"]
    data: dict[str, Any] = body["data"]
    return data
