"""When a check is due: every `interval` seconds at a stable per-check offset, so 1,000 checks with the
same interval spread over it instead of all starting in the same second."""

from __future__ import annotations

import hashlib
import math


def offset_of(check_id: str, interval: float) -> float:
    digest = int.from_bytes(hashlib.blake2b(check_id.encode(), digest_size=8).digest(), "big")
    return (digest % max(1, int(interval * 1000))) / 1000.0


def next_slot(check_id: str, interval: float, after: float) -> float:
    """The first due time strictly after `after`."""
    offset = offset_of(check_id, interval)
    k = math.floor((after - offset) / interval) + 1
    return offset + k * interval
