"""The embedded server: data survives a restart, and a clash is explained."""

from pathlib import Path

import pytest
from pymongo.errors import OperationFailure

from cdp.store.database import connect
from cdp.store.embedded import DATABASE_USER, EmbeddedServer, EmbeddedServerError


async def test_data_written_before_a_restart_is_there_after_it(tmp_path: Path) -> None:
    first = EmbeddedServer(tmp_path)
    client = connect(first.start())
    await client["cdp"]["persons"].insert_one({"_id": "ana"})
    await client.close()
    first.stop()

    second = EmbeddedServer(tmp_path)
    client = connect(second.start())
    try:
        assert await client["cdp"]["persons"].find_one({"_id": "ana"}) == {"_id": "ana"}
    finally:
        await client.close()
        second.stop()
    assert (tmp_path / "db").is_dir()


def test_a_second_server_on_the_same_data_says_what_to_do(tmp_path: Path) -> None:
    running = EmbeddedServer(tmp_path)
    running.start()
    try:
        with pytest.raises(EmbeddedServerError, match="Is another cdp already using CDP_DATA_DIR"):
            EmbeddedServer(tmp_path, start_timeout=15).start()
    finally:
        running.stop()


def test_an_unwritable_data_directory_is_explained(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("not a directory")
    with pytest.raises(EmbeddedServerError, match="Set CDP_DATA_DIR to a writable folder"):
        EmbeddedServer(blocker / "data").start()


async def test_only_the_service_opens_its_database(tmp_path: Path) -> None:
    server = EmbeddedServer(tmp_path)
    uri = server.start()
    try:
        anyone = connect(f"mongodb://127.0.0.1:{server.port}/?directConnection=true")
        with pytest.raises(OperationFailure, match="requires authentication"):
            await anyone["cdp"]["persons"].find_one()
        await anyone.close()
        guessing = connect(uri.replace(f"{DATABASE_USER}:", f"{DATABASE_USER}:wrong-", 1))
        with pytest.raises(OperationFailure, match="uthentication failed"):
            await guessing["cdp"]["persons"].find_one()
        await guessing.close()
        service = connect(uri)
        assert await service["cdp"]["persons"].count_documents({}) == 0
        await service.close()
    finally:
        server.stop()
    kept = tmp_path / "credentials.json"
    assert kept.stat().st_mode & 0o077 == 0  # its owner's only
