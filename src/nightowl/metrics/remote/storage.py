"""`RemoteStorage`: the Storage interface over a Prometheus-compatible store (Prometheus, VictoriaMetrics...).

Appends go to the remote write queue (see `writer.py`); reads go through the Prometheus HTTP API. Raw
samples come from an instant query of a range selector, which both Prometheus and VictoriaMetrics
answer with the stored samples, unaggregated.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Sequence
from urllib.parse import quote

import httpx
from prometheus_client import CollectorRegistry

from nightowl.core.errors import Unavailable
from nightowl.core.selfcheck import Component
from nightowl.metrics.api import MetricMetadata, SelectHints
from nightowl.metrics.model import AppendResult, Labels, Matcher, SampleBatch, Series
from nightowl.metrics.remote import promapi
from nightowl.metrics.remote.client import RemoteAPI, build_client
from nightowl.metrics.remote.config import RemoteConfig
from nightowl.metrics.remote.writer import RemoteWriter, WriterMetrics


class RemoteStorage:
    def __init__(
        self,
        config: RemoteConfig,
        registry: CollectorRegistry | None = None,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        self.config = config
        self.client = build_client(config, transport)
        self.api = RemoteAPI(config, self.client)
        self.writer = RemoteWriter(config, self.client, WriterMetrics.on(registry or CollectorRegistry()))
        self._metadata: dict[str, MetricMetadata] = {}
        self._lock = threading.Lock()

    def start(self) -> None:
        """Start the background sender; without it, `flush()` (or `writer.send_once()`) sends."""
        self.writer.start()

    def append(self, batch: SampleBatch) -> AppendResult:
        """Queue the batch for remote write. Accepted means queued: the remote may still refuse it later."""
        if len(batch):
            self.writer.enqueue(batch)
        if batch.metadata:
            with self._lock:
                for name, (kind, help_text, unit) in batch.metadata.items():
                    self._metadata[name] = MetricMetadata(kind, help_text, unit)
        return AppendResult(accepted=len(batch))

    def select(
        self, matchers: Sequence[Matcher], start_ms: int, end_ms: int, hints: SelectHints | None = None
    ) -> list[Series]:
        start_ms, end_ms = promapi.clamp(start_ms, end_ms)
        if start_ms > end_ms:
            return []
        at, window = promapi.select_window(start_ms, end_ms)
        query = f"{promapi.selector(matchers)}[{promapi.duration(window)}]"
        answer = self.api.call("/api/v1/query", [("query", query), ("time", promapi.seconds(at))], field="match[]")
        try:
            return promapi.raw_series(answer.data, start_ms, end_ms)
        except (ValueError, KeyError, TypeError, IndexError) as exc:
            raise Unavailable(f"the remote metrics store at {self.api.where} sent unreadable samples: {exc}") from None

    def series(
        self, matcher_sets: Sequence[Sequence[Matcher]], start_ms: int, end_ms: int, limit: int = 0
    ) -> list[Labels]:
        params = [*promapi.match_params(matcher_sets, required=True), *_window(start_ms, end_ms, limit)]
        found = promapi.label_sets(self.api.call("/api/v1/series", params, field="match[]").data)
        return found[:limit] if limit else found

    def label_names(
        self, matcher_sets: Sequence[Sequence[Matcher]], start_ms: int, end_ms: int, limit: int = 0
    ) -> list[str]:
        params = [*promapi.match_params(matcher_sets, required=False), *_window(start_ms, end_ms, limit)]
        found = promapi.names(self.api.call("/api/v1/labels", params, field="match[]").data)
        return found[:limit] if limit else found

    def label_values(
        self, name: str, matcher_sets: Sequence[Sequence[Matcher]], start_ms: int, end_ms: int, limit: int = 0
    ) -> list[str]:
        params = [*promapi.match_params(matcher_sets, required=False), *_window(start_ms, end_ms, limit)]
        path = f"/api/v1/label/{quote(name, safe='')}/values"
        # Prometheus serves label values by GET only.
        found = promapi.names(self.api.call(path, params, field="match[]", method="GET").data)
        return found[:limit] if limit else found

    def delete_series(self, matchers: Sequence[Matcher], start_ms: int | None = None, end_ms: int | None = None) -> int:
        """Delete through the admin API; returns how many series matched. VictoriaMetrics refuses a window."""
        lo, hi = promapi.clamp(start_ms or promapi.MIN_TIME_MS, end_ms or promapi.MAX_TIME_MS)
        window = []
        if start_ms is not None:
            window.append(("start", promapi.seconds(lo)))
        if end_ms is not None:
            window.append(("end", promapi.seconds(hi)))
        match = [("match[]", promapi.selector(matchers))]
        # Without a window both remotes default to all of time (a far-future `end` finds nothing on VM).
        touched = len(promapi.label_sets(self.api.call("/api/v1/series", match + window, field="match[]").data))
        self.api.call_no_content("/api/v1/admin/tsdb/delete_series", match + window)
        return touched

    def metadata(self, metric: str | None = None, limit: int = 0) -> dict[str, list[MetricMetadata]]:
        """The remote's metadata, completed by what remote write carried through this process.

        Prometheus learns metadata only from its own scrapes and VictoriaMetrics keeps none, so the
        metadata of appended batches would otherwise be lost to readers.
        """
        params = [("metric", metric)] if metric else []
        found = promapi.metadata(self.api.call("/api/v1/metadata", params, method="GET").data)
        with self._lock:
            for name, meta in self._metadata.items():
                if metric is None or name == metric:
                    found.setdefault(name, [meta])
        ordered = dict(sorted(found.items()))
        return dict(list(ordered.items())[:limit]) if limit else ordered

    def health(self) -> Component:
        """Reachable (the build info answers), and writes going out: what /health shows for the remote."""
        started = time.perf_counter()
        try:
            url = f"{self.config.url}/api/v1/status/buildinfo"
            self.client.get(url, timeout=min(self.config.timeout_s, 5.0)).raise_for_status()
        except httpx.HTTPError as exc:
            return Component("remote_metrics", "down", f"cannot reach {self.api.where}: {type(exc).__name__}: {exc}")
        latency = round((time.perf_counter() - started) * 1000, 2)
        queued, limit = self.writer.queued, self.config.queue_max_samples
        if self.writer.last_error:
            detail = f"remote write failing ({self.writer.last_error}); {queued} samples queued"
            return Component("remote_metrics", "degraded", detail, latency)
        if queued > limit // 2:
            return Component("remote_metrics", "degraded", f"remote write queue {queued} of {limit} samples", latency)
        return Component("remote_metrics", "ok", f"{self.api.where}, {queued} samples queued", latency)

    def flush(self) -> None:
        """Block until the remote write queue is empty, or `metrics_flush_timeout` has passed."""
        self.writer.flush()

    def close(self) -> None:
        self.writer.stop()
        self.writer.flush()
        self.client.close()


def _window(start_ms: int, end_ms: int, limit: int) -> list[tuple[str, str]]:
    start_ms, end_ms = promapi.clamp(start_ms, end_ms)
    params = [("start", promapi.seconds(start_ms)), ("end", promapi.seconds(end_ms))]
    if limit:
        params.append(("limit", str(limit)))
    return params
