from identity import new_person_id


def test_ids_sort_in_creation_order_even_within_one_millisecond() -> None:
    ids = [new_person_id(now_ms=1_700_000_000_000) for _ in range(1000)]
    assert ids == sorted(ids)
    assert len(set(ids)) == 1000
    assert all(len(i) == 24 and int(i, 16) >= 0 for i in ids)


def test_a_later_millisecond_gives_a_larger_id() -> None:
    earlier = new_person_id(now_ms=1_800_000_000_000)
    later = new_person_id(now_ms=1_800_000_000_001)
    assert earlier < later
