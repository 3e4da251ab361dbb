"""The embedded server: data survives a restart, and a clash is explained."""

from pathlib import Path

import pytest

from cdp.store.database import connect
from cdp.store.embedded import EmbeddedServer, EmbeddedServerError


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
