"""Crashes an operator meets: the service or its database killed with SIGKILL.

The database lives and dies with the service (its guardian stops it when the service's
pipe closes), a start that finds leftovers of a dead service clears them, and a
database that dies under a running service is restarted while calls answer 503.
"""

from __future__ import annotations

import os
import signal
import time
import uuid
from collections.abc import Callable
from pathlib import Path

import httpx
import psutil

from cdp.store.embedded import EmbeddedServer
from tests.e2e.server import Started, graphql, serving, start_service
from tests.stories import seed_story


def _database_of(service: Started) -> psutil.Process:
    """The database server running under this service (beneath its guardian)."""
    [guardian] = psutil.Process(service.process.pid).children()
    [database] = guardian.children()
    assert database.name().startswith("secantusd")
    return database


def _eventually(check: Callable[[], bool], seconds: float = 20) -> None:
    deadline = time.monotonic() + seconds
    while not check():
        assert time.monotonic() < deadline, "did not happen in time"
        time.sleep(0.1)


def _track(client: httpx.Client, events: list[dict[str, object]]) -> int:
    accepted: int = graphql(client, "Track", events=events)["track"]["accepted"]
    return accepted


def _timeline_size(client: httpx.Client) -> int:
    found = graphql(client, "PersonByIdentifier", type="email", value="ana.silva@example.com")
    size: int = found["personByIdentifier"]["timeline"]["totalCount"]
    return size


def test_a_service_killed_with_sigkill_starts_again_on_the_same_folder(tmp_path: Path) -> None:
    env = {"CDP_DATA_DIR": str(tmp_path / "data")}
    first = start_service(env, tmp_path)
    database = _database_of(first)
    assert _track(first.service.client, seed_story()) == 4
    first.process.kill()  # SIGKILL: no shutdown code runs
    first.process.wait()
    first.service.client.close()
    _eventually(lambda: not database.is_running())  # its guardian stopped it

    with serving(env, tmp_path) as service:
        assert _timeline_size(service.client) == 4  # every acknowledged event is there


def test_a_database_left_running_alone_is_stopped_by_the_next_start(tmp_path: Path) -> None:
    env = {"CDP_DATA_DIR": str(tmp_path / "data")}
    first = start_service(env, tmp_path)
    database = _database_of(first)
    [guardian] = psutil.Process(first.process.pid).children()
    assert _track(first.service.client, seed_story()) == 4
    guardian.kill()  # the worst case: nobody is left to stop the database
    first.process.kill()
    first.process.wait()
    first.service.client.close()
    assert database.is_running()  # it still holds the data folder

    with serving(env, tmp_path) as service:
        assert not database.is_running()
        assert _timeline_size(service.client) == 4
        assert "left running by a cdp that ended" in service.output()


def test_the_embedded_database_killed_under_the_service_is_restarted(tmp_path: Path) -> None:
    env = {"CDP_DATA_DIR": str(tmp_path / "data")}
    started = start_service(env, tmp_path)
    client = started.service.client
    try:
        assert _track(client, seed_story()[:2]) == 2
        os.kill(_database_of(started).pid, signal.SIGKILL)
        _eventually(lambda: client.get("/healthz").status_code == 200)
        assert _track(client, seed_story()[2:]) == 2  # the service recovered by itself
        assert _timeline_size(client) == 4
        assert "the database exited with code" in (tmp_path / "data" / "secantusd.log").read_text()
    finally:
        client.close()
        started.process.terminate()
        assert started.process.wait(timeout=30) == 0


def test_while_an_external_database_is_away_calls_answer_503_with_a_code(tmp_path: Path) -> None:
    database = EmbeddedServer(tmp_path / "external")
    uri = database.start()
    back = EmbeddedServer(tmp_path / "external", port=database.port)
    env = {"CDP_MONGODB_URI": uri, "CDP_DB_NAME": f"away_{uuid.uuid4().hex[:12]}"}
    try:
        with serving(env, tmp_path) as service:
            assert _track(service.client, seed_story()[:1]) == 1
            database.stop()
            response = service.client.post(  # a read no cache can answer
                "/graphql", json={"query": "{ persons(first: 1) { edges { cursor } } }"}
            )
            assert response.status_code == 503, response.text
            assert response.headers["Retry-After"] == "2"
            [error] = response.json()["errors"]
            assert error["extensions"]["code"] == "SERVICE_UNAVAILABLE"
            assert service.client.get("/healthz").status_code == 503

            back.start()
            _eventually(lambda: service.client.get("/healthz").status_code == 200)
            assert _track(service.client, seed_story()[1:]) == 3
    finally:
        database.stop()
        back.stop()
