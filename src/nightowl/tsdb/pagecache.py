"""Decoded block pages kept in memory, least recently used dropped first, within a byte budget.

Blocks never change once written, so a decoded page stays right until its block goes away. Dashboards
re-run the same queries every refresh and alert rules every evaluation: with the pages they read at
hand, a select picks its series' runs out of arrays instead of decompressing and un-delta-ing again.
"""

from __future__ import annotations

import itertools
import threading
from collections import OrderedDict
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from nightowl.tsdb.codec import take_ranges

I32 = npt.NDArray[np.int32]
I64 = npt.NDArray[np.int64]
F64 = npt.NDArray[np.float64]

DEFAULT_BUDGET_BYTES = 128 * 2**20
"""About 8 M decoded samples: the whole of a 10k-series x 2 h block, or the last ~10 minutes of 100k series."""

PageKey = tuple[int, int, int]
"""(block token, column, page number)."""


@dataclass(frozen=True)
class DecodedPage:
    """Every series of one page: `counts[i]` samples of series i from `starts[i]`, in time order.

    Timestamps are kept as `keys`, which order every sample by (series, time) in one ascending array
    (series i's time t is `t - first_ts + i * width`): the samples of any series inside any window are
    found with two binary searches for all wanted series at once, at no extra memory.
    """

    counts: I32
    starts: I64
    keys: npt.NDArray[np.int32] | I64
    values: F64
    first_ts: int
    last_ts: int
    width: int

    @classmethod
    def of(cls, counts: I32, timestamps: I64, values: F64) -> DecodedPage:
        starts = np.zeros(len(counts) + 1, np.int64)
        np.cumsum(counts, out=starts[1:])
        first = int(timestamps.min()) if len(timestamps) else 0
        last = int(timestamps.max()) if len(timestamps) else 0
        width = last - first + 1
        wide = timestamps - first
        wide += np.repeat(np.arange(len(counts), dtype=np.int64) * width, counts)
        # A time slice's page fits 4 bytes a key instead of 8.
        keys: npt.NDArray[np.int32] | I64 = wide.astype(np.int32) if len(counts) * width < 2**31 else wide
        for array in (counts, starts, keys, values):
            array.flags.writeable = False  # shared by every query that reads the page
        return cls(counts, starts, keys, values, first, last, width)

    @property
    def nbytes(self) -> int:
        return int(self.counts.nbytes + self.starts.nbytes + self.keys.nbytes + self.values.nbytes)

    def runs(self, want: I64, start_ms: int, end_ms: int) -> tuple[I64, I64]:
        """Start index and sample count of each wanted series' samples in [start_ms, end_ms]."""
        base = want * self.width
        # Targets in the keys' own type: a mixed-type search would convert the whole keys array.
        bottom = base + (max(start_ms, self.first_ts) - self.first_ts)
        top = base + (min(end_ms, self.last_ts) - self.first_ts)
        lo = np.searchsorted(self.keys, bottom.astype(self.keys.dtype))
        hi = np.searchsorted(self.keys, top.astype(self.keys.dtype), side="right")
        return lo, np.maximum(hi - lo, 0)

    def take(self, want: I64, starts: npt.NDArray[np.integer], counts: npt.NDArray[np.integer]) -> tuple[I64, F64]:
        """Timestamps and values of `counts[i]` samples from `starts[i]` of each wanted series."""
        idx = take_ranges(starts, counts)
        timestamps: I64 = self.keys[idx].astype(np.int64)
        timestamps -= np.repeat(want * self.width - self.first_ts, counts)
        return timestamps, self.values[idx]


class PageCache:
    """A thread-safe LRU of decoded pages; `budget` bytes of arrays at most (0 keeps nothing)."""

    def __init__(self, budget: int = DEFAULT_BUDGET_BYTES) -> None:
        self.budget = budget
        self.used = 0
        self.hits = 0
        self.misses = 0
        self._pages: OrderedDict[PageKey, DecodedPage] = OrderedDict()
        self._lock = threading.Lock()
        self._tokens = itertools.count(1)
        self._closed: list[int] = []  # tokens of blocks gone, purged under the lock

    def token(self) -> int:
        """A key prefix for one opened block: a rewritten block at the same path never sees old pages."""
        return next(self._tokens)

    def get(self, key: PageKey) -> DecodedPage | None:
        with self._lock:
            page = self._pages.get(key)
            if page is None:
                self.misses += 1
                return None
            self._pages.move_to_end(key)
            self.hits += 1
            return page

    def put(self, key: PageKey, page: DecodedPage) -> None:
        size = page.nbytes
        if size > self.budget:
            return
        with self._lock:
            self._purge_closed()
            old = self._pages.pop(key, None)
            if old is not None:
                self.used -= old.nbytes
            self._pages[key] = page
            self.used += size
            while self.used > self.budget and self._pages:
                _, dropped = self._pages.popitem(last=False)
                self.used -= dropped.nbytes

    def drop_block(self, token: int) -> None:
        """Forget a closed block's pages (their memory goes back before the LRU would get to them).

        Called from the block's finalizer, which the garbage collector may run in any thread, even one
        holding the lock: so this only notes the token (`list.append` is atomic), and the next `put`
        or `pages_of` drops the pages under the lock.
        """
        self._closed.append(token)

    def _purge_closed(self) -> None:
        while self._closed:
            token = self._closed.pop()
            for key in [k for k in self._pages if k[0] == token]:
                self.used -= self._pages.pop(key).nbytes

    def status(self) -> dict[str, float]:
        return {
            "page_cache_bytes": float(self.used),
            "page_cache_hits": float(self.hits),
            "page_cache_misses": float(self.misses),
        }

    def pages_of(self, token: int) -> int:
        with self._lock:
            self._purge_closed()
            return sum(1 for k in self._pages if k[0] == token)

    def resize(self, budget: int) -> None:
        with self._lock:
            self._purge_closed()
            self.budget = budget
            while self.used > self.budget and self._pages:
                _, dropped = self._pages.popitem(last=False)
                self.used -= dropped.nbytes


PAGE_CACHE = PageCache()
"""The process's cache, shared by every open block."""
