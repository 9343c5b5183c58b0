from __future__ import annotations

from recs.adapters.redis_cache import NullCache, make_cache


def test_no_url_gives_the_null_cache_which_always_misses() -> None:
    # Given no cache URL
    cache = make_cache("", connect_timeout_ms=10, read_timeout_ms=10)
    # When it is used
    cache.set_many({"k": b"v"}, 60)
    # Then it is the null cache: disabled, always a miss, never an error
    assert isinstance(cache, NullCache)
    assert cache.enabled is False
    assert cache.get_many(["k", "j"]) == [None, None]
    assert cache.delete(["k"]) == 0
