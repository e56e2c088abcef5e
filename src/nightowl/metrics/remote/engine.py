"""`RemoteQueryEngine`: whole PromQL queries run on the remote store; its JSON comes back as a QueryResult."""

from __future__ import annotations

from nightowl.core.errors import InvalidInput, Unavailable
from nightowl.metrics.api import QueryResult
from nightowl.metrics.remote import promapi
from nightowl.metrics.remote.client import Answer, RemoteAPI


class RemoteQueryEngine:
    """The remote's own PromQL engine, so functions, aggregation and subqueries are evaluated next to the data."""

    def __init__(self, api: RemoteAPI) -> None:
        self.api = api

    def instant(self, query: str, time_ms: int, *, timeout_s: float | None = None) -> QueryResult:
        params = [("query", query), ("time", promapi.seconds(time_ms)), *_timeout(timeout_s)]
        return self._result(self.api.call("/api/v1/query", params, timeout_s=timeout_s, field="query"))

    def range(
        self, query: str, start_ms: int, end_ms: int, step_ms: int, *, timeout_s: float | None = None
    ) -> QueryResult:
        if step_ms <= 0:
            raise InvalidInput(f"step must be positive, got {step_ms}ms", field="step")
        if end_ms < start_ms:
            raise InvalidInput("end must not be before start", field="end")
        params = [
            ("query", query),
            ("start", promapi.seconds(start_ms)),
            ("end", promapi.seconds(end_ms)),
            ("step", promapi.duration(step_ms)),
            *_timeout(timeout_s),
        ]
        return self._result(self.api.call("/api/v1/query_range", params, timeout_s=timeout_s, field="query"))

    def _result(self, answer: Answer) -> QueryResult:
        try:
            return promapi.query_result(answer.data, answer.warnings, answer.infos)
        except (ValueError, KeyError, TypeError, IndexError) as exc:
            raise Unavailable(
                f"the remote metrics store at {self.api.where} sent an unreadable result: {exc}"
            ) from None


def _timeout(timeout_s: float | None) -> list[tuple[str, str]]:
    return [("timeout", promapi.duration(int(timeout_s * 1000)))] if timeout_s else []
