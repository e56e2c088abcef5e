"""The remote metrics backend: remote write out, the Prometheus HTTP API in (Prometheus, VictoriaMetrics...)."""

from __future__ import annotations

from nightowl.metrics.remote.config import RemoteConfig
from nightowl.metrics.remote.engine import RemoteQueryEngine
from nightowl.metrics.remote.storage import RemoteStorage

__all__ = ["RemoteConfig", "RemoteQueryEngine", "RemoteStorage"]
