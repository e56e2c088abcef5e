"""The C allocator's part in the server's memory: glibc malloc tuning and handing freed memory back.

Numpy arrays of a flush, a compaction or a query are megabytes each. glibc serves big allocations
with mmap and returns them on free, but after the first such free it raises its mmap threshold (up
to 32 MiB), so later arrays come from the heaps of the threads that allocate them and stay there,
fragmented, after they are freed: ~30 MiB more resident memory in a 10k-series ingest
(docs/performance.md, "Memory"). A fixed threshold keeps big arrays in mmap. Elsewhere (musl,
macOS) these calls do nothing.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import logging
from functools import cache

log = logging.getLogger(__name__)

M_MMAP_THRESHOLD = -3
MMAP_THRESHOLD_BYTES = 1 << 20
"""Allocations from 1 MiB up get their own mapping, returned to the OS when freed."""


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
    """Fix glibc's mmap threshold for this process (a server's start); False where there is no glibc."""
    libc = _libc()
    if libc is None:
        return False
    ok = bool(libc.mallopt(M_MMAP_THRESHOLD, MMAP_THRESHOLD_BYTES))
    log.debug("malloc mmap threshold fixed at %d bytes: %s", MMAP_THRESHOLD_BYTES, ok)
    return ok


def release() -> None:
    """Give the free pages of every malloc heap back to the OS (after a flush or a big query)."""
    libc = _libc()
    if libc is not None:
        libc.malloc_trim(0)
