"""Instants as microseconds, packed: exact both ways, the same bytes on any machine."""

from datetime import UTC, datetime, timedelta

from cdp.metrics.instants import EPOCH, micros, pack, unpack


def test_instants_convert_exactly_and_pack_little_endian() -> None:
    times = [datetime(2026, 12, 3, 7, 1, 2, 345678, tzinfo=UTC), EPOCH - timedelta(days=1)]
    values = [micros(t) for t in times]
    assert [EPOCH + timedelta(microseconds=v) for v in values] == times
    assert unpack(pack(values)) == values
    assert pack([1]) == b"\x01" + b"\x00" * 7
