"""The C allocator's part in the server's memory: glibc malloc tuning and handing freed memory back.

Numpy arrays of a flush, a compaction or a query are megabytes each, allocated in worker threads.
glibc gives each thread that allocates its own heap (arena), up to 8 per core, and memory freed in
one stays there, fragmented: ~25 MiB more resident memory in a 10k-series ingest. One arena keeps it
bounded at no measurable cost: Python threads allocate under the GIL anyway. (A fixed mmap threshold
bounded it too, but every large array then cost fresh zeroed pages: range queries ~30 % slower; see
docs/performance.md, "Memory".) After a flush or a compaction the heaps are trimmed. Elsewhere
(musl, macOS) these calls do nothing.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import logging
from functools import cache

log = logging.getLogger(__name__)

M_ARENA_MAX = -8
ARENAS = 1
"""The event loop's thread and the worker threads share one heap instead of up to 16 on two cores."""


@cache
def _libc() -> ctypes.CDLL | None:
    name = ctypes.util.find_library("c")
    if name is None:
        return None
    try:
        libc = ctypes.CDLL(name)
        libc.mallopt  # noqa: B018 (glibc only: probe before use)
        libc.malloc_trim  # noqa: B018
    except (OSError, AttributeError):
        return None
    return libc


def tune() -> bool:
    """Cap glibc's arenas for this process (a server's start, before threads); False where there is no glibc."""
    libc = _libc()
    if libc is None:
        return False
    ok = bool(libc.mallopt(M_ARENA_MAX, ARENAS))
    log.debug("malloc arenas capped at %d: %s", ARENAS, ok)
    return ok


def release() -> None:
    """Give the free pages of every malloc heap back to the OS (after a flush or a big query)."""
    libc = _libc()
    if libc is not None:
        libc.malloc_trim(0)
