"""Decoder caches bounded by the memory they hold, not by their number of entries.

Decoders remember what they parsed (raw label bytes -> `Labels`) because the same series come back
in every scrape and every remote-write request. An entry may be a few bytes or, with long label
values, hundreds of kilobytes, so a count bound says nothing about memory: a `CacheBudget` adds up an
estimate of each entry's size and empties its caches together when the sum would pass its bound.
Emptying them together keeps the invariant that an interned label set never has a stale twin.
"""

from __future__ import annotations

from typing import Any

from nightowl.metrics.model import Labels

STR_OVERHEAD = 49
"""Bytes CPython spends on a str beyond its characters (ASCII); a bytes object spends 33."""
TUPLE_OVERHEAD = 56
DICT_ENTRY = 100
"""Hash table slot, key pointer and amortised growth of one dict entry."""


def labels_size(labels: Labels) -> int:
    """Estimated bytes a cached label set holds: its strings, its pair tuples and the tuple around them."""
    return TUPLE_OVERHEAD + sum(
        TUPLE_OVERHEAD + 2 * STR_OVERHEAD + len(name) + len(value) + 8 for name, value in labels
    )


def text_size(key: str | bytes | tuple[str, ...]) -> int:
    """Estimated bytes of a cache key: raw bytes, exposition text, or a tuple of strings."""
    if isinstance(key, tuple):
        return TUPLE_OVERHEAD + sum(STR_OVERHEAD + 8 + len(item) for item in key)
    return STR_OVERHEAD + len(key)


class CacheBudget:
    """The bytes a group of caches may hold together; past `max_bytes` they are all emptied."""

    def __init__(self, max_bytes: int, *caches: dict[Any, Any]) -> None:
        self.max_bytes = max_bytes
        self.caches = caches
        self.used = 0
        """Estimated bytes held now: the accounting tests and `/metrics` can read."""

    def charge(self, size: int) -> None:
        """Make room for an entry of `size` bytes (emptying every cache when there is none), then count it."""
        if self.used + size > self.max_bytes:
            self.clear()
        self.used += DICT_ENTRY + size

    def clear(self) -> None:
        for cache in self.caches:
            cache.clear()
        self.used = 0
