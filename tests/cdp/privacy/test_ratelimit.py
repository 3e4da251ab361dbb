from cdp.privacy.ratelimit import RateLimiter


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_a_key_may_burst_then_waits_for_tokens_to_refill() -> None:
    clock = Clock()
    limiter = RateLimiter(per_minute=60, burst=3, clock=clock)
    assert [limiter.retry_after("k") for _ in range(3)] == [0, 0, 0]
    assert limiter.retry_after("k") == 1  # one token a second
    assert limiter.retry_after("other") == 0  # each key has its own bucket
    clock.now = 1.0
    assert limiter.retry_after("k") == 0
    assert limiter.retry_after("k") == 1
