"""The service as a user runs it: ``cdp serve`` over HTTP, on the embedded or a given server."""

import re
import signal
import uuid
from pathlib import Path

import psutil

from cdp.store.embedded import EmbeddedServer
from tests.e2e.server import graphql, serving
from tests.stories import seed_story

IDENTIFIERS = [
    ("facebook", "10158000000001"),
    ("email", " Ana.Silva@EXAMPLE.com"),
    ("cookie_id", "ck-7f3a"),
    ("phone", "+44 (0) 20 7946 0958"),
]


def test_the_seed_story_over_http_gives_one_person_on_one_timeline(
    mongodb_uri: str, tmp_path: Path
) -> None:
    env = {
        "CDP_MONGODB_URI": mongodb_uri,
        "CDP_DB_NAME": f"e2e_{uuid.uuid4().hex[:12]}",
        "CDP_DEFAULT_PHONE_REGION": "gb",
    }
    with serving(env, tmp_path, stop_with=signal.SIGINT) as service:
        client = service.client
        made = 0
        for raw in seed_story():  # four integrations, four calls
            result = graphql(client, "Track", events=[raw])["track"]
            assert result["accepted"] == 1, result
            made += result["personsCreated"] - result["merges"]
        assert made == 1  # each call counts the profiles it made and merged

        people = {
            graphql(client, "PersonByIdentifier", type=type_, value=value)["personByIdentifier"][
                "id"
            ]
            for type_, value in IDENTIFIERS
        }
        assert len(people) == 1
        person = graphql(client, "PersonByIdentifier", type="phone", value="02079460958")
        timeline = person["personByIdentifier"]["timeline"]
        assert timeline["totalCount"] == 4
        nodes = [edge["node"] for edge in timeline["edges"]]
        assert [n["channel"] for n in nodes] == ["MOBILE_APP", "PHONE", "WEB", "FACEBOOK"]
        assert [n["timestamp"] for n in nodes] == sorted(
            (n["timestamp"] for n in nodes), reverse=True
        )

        health = client.get("/healthz").json()
        assert health == {"status": "ok", "database": "up", "engine": health["engine"]}
        assert health["engine"].endswith("(external)")
        assert "Customer console" in client.get("/").text
        ide = client.get("/graphql", headers={"Accept": "text/html"})
        assert ide.status_code == 200
        assert "graphiql" in ide.text.lower()
        error = client.post("/graphql", json={"query": "{ person(id: 1) { nope } }"}).json()
        assert error["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"


def test_requests_are_logged_one_line_each_unless_turned_off(
    mongodb_uri: str, tmp_path: Path
) -> None:
    """The access log is on by default; CDP_ACCESS_LOG=0 turns it off."""
    env = {"CDP_MONGODB_URI": mongodb_uri, "CDP_DB_NAME": f"e2e_{uuid.uuid4().hex[:12]}"}
    for asked, expected in (({}, True), ({"CDP_ACCESS_LOG": "0"}, False)):
        with serving({**env, **asked}, tmp_path) as service:
            service.client.post("/graphql", json={"query": "{ __typename }"})
            assert ('"POST /graphql HTTP/1.1" 200' in service.output()) is expected


def test_without_a_uri_it_runs_the_embedded_server_keeps_data_and_stops_it(tmp_path: Path) -> None:
    """A first start prints a local admin key once; the data and the key survive a restart."""
    env = {"CDP_DATA_DIR": str(tmp_path / "data"), "CDP_BOOTSTRAP_ADMIN_KEY": ""}
    with serving(env, tmp_path, stop_with=signal.SIGTERM) as service:
        printed = re.search(r"Authorization: Bearer (cdp_\S+)", service.output())
        assert printed is not None, service.output()
        client = service.client
        client.headers["Authorization"] = f"Bearer {printed.group(1)}"
        accepted = graphql(client, "Track", events=seed_story()[:2])["track"]["accepted"]
        assert accepted == 2
        health = client.get("/healthz").json()
        assert health["engine"].startswith("secantusd-rs ")  # the default engine
        assert health["engine"].endswith("(embedded)")
        children = _embedded_servers_under(tmp_path)
        assert [child.name() for child in children] == ["secantusd-rs"]
    assert not any(child.is_running() for child in children)  # stopped with the service

    with serving(env, tmp_path) as service:  # restarted on the same data
        assert "Authorization: Bearer" not in service.output()  # keys exist: none printed
        client = service.client
        client.headers["Authorization"] = f"Bearer {printed.group(1)}"
        found = graphql(client, "PersonByIdentifier", type="email", value="ana.silva@example.com")
        assert found["personByIdentifier"]["timeline"]["totalCount"] == 1


def _embedded_servers_under(folder: Path) -> list[psutil.Process]:
    """The database servers (not their guardian) keeping data under ``folder``."""
    found = []
    for process in psutil.process_iter(["cmdline"]):
        cmdline = process.info["cmdline"] or []
        program = Path(cmdline[0]).name if cmdline else ""
        if program.startswith("secantusd") and str(folder) in " ".join(cmdline):
            found.append(process)
    return found


def test_health_turns_503_when_the_database_stops_answering(tmp_path: Path) -> None:
    database = EmbeddedServer(None)
    env = {"CDP_MONGODB_URI": database.start()}
    try:
        with serving(env, tmp_path) as service:
            client = service.client
            assert client.get("/healthz").status_code == 200
            database.stop()
            response = client.get("/healthz")
            assert response.status_code == 503
            assert response.json()["database"] == "down"
    finally:
        database.stop()
