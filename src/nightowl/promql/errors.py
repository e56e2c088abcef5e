"""PromQL failures, each with the `errorType` the Prometheus HTTP API answers with."""

from __future__ import annotations


class PromQLError(Exception):
    """A query that cannot be answered. `kind` is Prometheus's errorType: bad_data, execution, timeout."""

    kind = "execution"

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class QueryParseError(PromQLError):
    kind = "bad_data"


class QueryExecutionError(PromQLError):
    kind = "execution"


class QueryLimitError(PromQLError):
    """A configured query limit was exceeded; `limit` names the setting."""

    kind = "execution"

    def __init__(self, message: str, limit: str) -> None:
        super().__init__(message)
        self.limit = limit


class QueryTimeoutError(PromQLError):
    kind = "timeout"
