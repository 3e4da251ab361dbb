"""What guards /graphql before GraphQL runs: the key (401), the body size (413), the rate (429)."""

import subprocess
import uuid
from pathlib import Path

import httpx

from tests.e2e.server import CDP, environment, graphql, serving

QUERY = {"query": "{ identityRules { type } }"}


def test_keys_body_size_and_rate_are_checked_with_clear_errors(
    mongodb_uri: str, tmp_path: Path
) -> None:
    env = {
        "CDP_MONGODB_URI": mongodb_uri,
        "CDP_DB_NAME": f"guard_{uuid.uuid4().hex[:12]}",
        "CDP_MAX_BODY_BYTES": "4096",
        "CDP_RATE_LIMIT_PER_MINUTE": "1",  # nothing refills while the test runs
        "CDP_RATE_LIMIT_BURST": "5",
    }
    with serving(env, tmp_path) as service:
        url = str(service.client.base_url)
        anonymous = httpx.Client(base_url=url)
        ide = anonymous.get("/graphql", headers={"Accept": "text/html"})
        assert ide.status_code == 200  # GraphiQL loads; the user pastes a key into it

        for headers in ({}, {"Authorization": "Bearer cdp_wrong"}, {"Authorization": "Basic abc"}):
            refused = anonymous.post("/graphql", json=QUERY, headers=headers)
            assert refused.status_code == 401
            assert refused.headers["WWW-Authenticate"] == "Bearer"
            assert refused.json()["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
        assert (
            anonymous.get("/graphql", params={"query": "{ identityRules { type } }"}).status_code
            == 401
        )

        huge = service.client.post(
            "/graphql", json={"query": "{ identityRules { type } }", "pad": "x" * 5000}
        )
        assert huge.status_code == 413
        assert huge.json()["errors"][0]["message"] == "the request body is over 4096 bytes"

        answers = [service.client.post("/graphql", json=QUERY) for _ in range(6)]
        assert [a.status_code for a in answers] == [200] * 5 + [429]
        assert int(answers[-1].headers["Retry-After"]) >= 1
        assert answers[-1].json()["errors"][0]["extensions"]["code"] == "RATE_LIMITED"


def test_a_key_made_with_the_cli_works_within_its_scopes(mongodb_uri: str, tmp_path: Path) -> None:
    env = {"CDP_MONGODB_URI": mongodb_uri, "CDP_DB_NAME": f"cli_{uuid.uuid4().hex[:12]}"}
    made = subprocess.run(
        [str(CDP), "keys", "create", "--name", "crm sync", "--scopes", "events:write"],
        env=environment(env),
        capture_output=True,
        text=True,
        check=True,
    )
    key = made.stdout.split("key: ")[1].split()[0]
    with serving(env, tmp_path) as service:
        writer = httpx.Client(
            base_url=str(service.client.base_url), headers={"Authorization": f"Bearer {key}"}
        )
        assert (
            graphql(
                writer,
                "Track",
                events=[
                    {
                        "type": "x",
                        "channel": "CRM",
                        "identifiers": [{"type": "crm_id", "value": "C1"}],
                    }
                ],
            )["track"]["accepted"]
            == 1
        )
        denied = writer.post("/graphql", json=QUERY).json()
        assert denied["errors"][0]["extensions"]["code"] == "FORBIDDEN"
        assert "profiles:read" in denied["errors"][0]["message"]
    listed = subprocess.run(
        [str(CDP), "keys", "list"], env=environment(env), capture_output=True, text=True, check=True
    )
    assert "crm sync" in listed.stdout
    assert key not in listed.stdout


def test_a_key_revoked_over_the_api_is_refused_from_the_next_request(
    mongodb_uri: str, tmp_path: Path
) -> None:
    env = {"CDP_MONGODB_URI": mongodb_uri, "CDP_DB_NAME": f"revoke_{uuid.uuid4().hex[:12]}"}
    with serving(env, tmp_path) as service:
        made = graphql(service.client, "CreateApiKey", name="reader", scopes=["PROFILES_READ"])
        key = made["createApiKey"]
        reader = httpx.Client(
            base_url=str(service.client.base_url), headers={"Authorization": f"Bearer {key['key']}"}
        )
        assert reader.post("/graphql", json=QUERY).status_code == 200  # now cached
        graphql(service.client, "RevokeApiKey", id=key["id"])
        refused = reader.post("/graphql", json=QUERY)
        assert refused.status_code == 401
        assert refused.json()["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"


def test_guessing_keys_from_one_address_is_slowed_but_a_working_key_still_passes(
    mongodb_uri: str, tmp_path: Path
) -> None:
    env = {
        "CDP_MONGODB_URI": mongodb_uri,
        "CDP_DB_NAME": f"guess_{uuid.uuid4().hex[:12]}",
        "CDP_AUTH_FAILURES_PER_MINUTE": "5",  # burst 5, then one per 12 s
    }
    with serving(env, tmp_path) as service:
        assert service.client.post("/graphql", json=QUERY).status_code == 200
        guesser = httpx.Client(base_url=str(service.client.base_url))
        answers = [
            guesser.post("/graphql", json=QUERY, headers={"Authorization": f"Bearer cdp_{n}"})
            for n in range(8)
        ]
        assert [a.status_code for a in answers] == [401] * 5 + [429] * 3
        assert int(answers[-1].headers["Retry-After"]) >= 1
        assert answers[-1].json()["errors"][0]["extensions"]["code"] == "RATE_LIMITED"
        # the same address with a key that works is not held back by the guesses
        assert service.client.post("/graphql", json=QUERY).status_code == 200
