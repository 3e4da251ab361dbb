"""The composition root builds one running service from settings, and stops it whole."""

import uuid
from datetime import UTC, datetime

from cdp import bootstrap
from cdp.privacy.access import Scope
from cdp.privacy.keys import authenticate
from cdp.settings import Settings
from tests.stories import event

ADMIN_KEY = "cdp_bootstrap-test-admin-key"
FROZEN = datetime(2026, 5, 4, 12, 0, tzinfo=UTC)


def settings_for(uri: str, name: str) -> Settings:
    return Settings.model_validate(
        {
            "mongodb_uri": uri,
            "db_name": name,
            "bootstrap_admin_key": ADMIN_KEY,
            "default_phone_region": "FR",
        }
    )


async def test_a_started_service_has_its_keys_indexes_clock_and_background_work(
    mongodb_uri: str,
) -> None:
    name = f"cdp_boot_{uuid.uuid4().hex[:12]}"
    settings = settings_for(mongodb_uri, name)
    async with bootstrap.service(settings, clock=lambda: FROZEN) as running:
        deps = running.deps
        assert running.engine.startswith("MongoDB ")  # named by URI: asked the server
        admin = await authenticate(deps.stores, ADMIN_KEY)
        assert admin is not None
        assert Scope.ADMIN in admin.scopes
        assert deps.default_phone_region == "FR"  # the settings reached the ingest limits
        assert deps.refresher is not None
        assert deps.ingest is not None
        result = await deps.ingest.track(
            [
                event(
                    "page_view",
                    "WEB",
                    [("email", "ines@example.fr")],
                    at="2026-05-04T11:00:00Z",
                    message_id="m1",
                )
            ]
        )
        assert result.results[0].person_id is not None
        stored = await deps.stores.events.existing(["m1"])
        assert stored[0]["m1"] == result.results[0].person_id
        assert deps.clock() == FROZEN
    async with bootstrap.database(mongodb_uri, name) as db:
        indexes = await db["landings"].index_information()
        assert any(spec["key"] == [("events", 1)] for spec in indexes.values())
        [stamped] = await db["events"].find({"_id": "m1"}).to_list()
        assert stamped["received_at"] == FROZEN  # every write took the clock it was given
        await db.client.drop_database(name)


async def test_request_deps_without_a_refresher_refresh_in_the_call(
    mongodb_uri: str,
) -> None:
    name = f"cdp_boot_{uuid.uuid4().hex[:12]}"
    settings = settings_for(mongodb_uri, name)
    async with bootstrap.database(mongodb_uri, name) as db:
        deps = bootstrap.request_deps(bootstrap.stores(db, settings, "external"), db, settings)
        assert deps.refresher is None
        assert deps.ingest is not None
        assert await deps.database_ready()
        sent = event(
            "purchase",
            "STORE",
            [("phone", "06 48 27 91 53")],
            at="2026-05-04T11:00:00Z",
            message_id="p1",
        )
        [result] = (await deps.ingest.track([{**sent, "properties": {"total": 40}}])).results
        assert result.person_id is not None
        profile = await deps.stores.persons.get(result.person_id)
        assert profile is not None
        assert profile["metrics"]["orders"] == 1
        assert "pending_since" not in profile
        await db.client.drop_database(name)
