"""The running query's deadline, where loops deep in the evaluator can see it.

The evaluator checks its budget at every node, but one node (a range function over a long
subquery, say) can run for minutes in chunked numpy loops that know nothing of the query. The
engine sets the deadline for the evaluation's thread; those loops call `check()` between chunks,
so a query stops at its timeout instead of running on in a worker thread nobody waits for.
"""

from __future__ import annotations

import math
import time
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

from nightowl.promql.errors import QueryTimeoutError

_deadline: ContextVar[float] = ContextVar("query_deadline", default=math.inf)


@contextmanager
def until(deadline: float) -> Iterator[None]:
    """Evaluation in this context stops at `deadline` (a `time.monotonic()` value)."""
    token = _deadline.set(deadline)
    try:
        yield
    finally:
        _deadline.reset(token)


def check() -> None:
    if time.monotonic() > _deadline.get():
        raise QueryTimeoutError("query timed out in expression evaluation")
