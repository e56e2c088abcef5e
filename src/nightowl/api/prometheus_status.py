"""Prometheus's status and probe endpoints: /status/config, /status/flags, /status/tsdb,
/targets/metadata under /prometheus/api/v1, and /prometheus/-/healthy, /prometheus/-/ready.

Answers use Prometheus's envelope, so tools written for Prometheus (Grafana, promtool, cardinality
explorers) read them unchanged.
"""

from __future__ import annotations

from typing import Annotated, Any

import yaml
from fastapi import APIRouter, Depends, Request, Response
from fastapi.concurrency import run_in_threadpool

from nightowl.api.deps import get_nightowl, requires
from nightowl.config import Settings
from nightowl.core.errors import InvalidInput
from nightowl.federation.cardinality import cardinality
from nightowl.ingest.selector import parse_selector
from nightowl.metrics.model import METRIC_NAME, Matcher
from nightowl.promql import jsonfmt
from nightowl.runtime import Nightowl
from nightowl.scrape.config import ScrapeConfig
from nightowl.tsdb.options import parse_duration_ms

router = APIRouter(tags=["prometheus"])
NightowlDep = Annotated[Nightowl, Depends(get_nightowl)]
READ = [Depends(requires("read"))]
API = "/prometheus/api/v1"
MAX_TIME_MS = 9223372036854775 // 1000 * 1000
_DURATIONS = ("scrape_interval", "scrape_timeout", "evaluation_interval", "refresh_interval")
_SECRETS = ("password", "credentials")
_UNITS: tuple[tuple[str, int, bool], ...] = (
    ("y", 365 * 86_400_000, True),
    ("w", 7 * 86_400_000, True),
    ("d", 86_400_000, False),
    ("h", 3_600_000, False),
    ("m", 60_000, False),
    ("s", 1000, False),
    ("ms", 1, False),
)


def prom_duration(ms: int) -> str:
    """Prometheus's model.Duration text: `30d`, `2w`, `1y`, `1d12h`; years and weeks only when exact."""
    if ms == 0:
        return "0s"
    out = ""
    for unit, size, exact in _UNITS:
        if exact and ms % size:
            continue
        if ms >= size:
            out += f"{ms // size}{unit}"
            ms %= size
    return out


def prom_bytes(n: int) -> str:
    """Prometheus's base-2 byte size text (alecthomas/units): `10GiB`, `1GiB512MiB`, `0B`."""
    if n == 0:
        return "0B"
    parts = []
    for i, magnitude in enumerate(("", "Ki", "Mi", "Gi", "Ti", "Pi", "Ei")):
        if n % 1024:
            parts.append(f"{n % 1024}{magnitude}B" if i else f"{n % 1024}B")
        n //= 1024
        if n == 0:
            break
    return "".join(reversed(parts))


def storage_retention(settings: Settings) -> str:
    """`storageRetention` of /status/runtimeinfo: `30d`, `10GiB` or `30d or 10GiB`, as Prometheus reports it."""
    parts = [prom_duration(parse_duration_ms(settings.tsdb_retention))]
    if settings.tsdb_retention_size_bytes:
        parts.append(prom_bytes(settings.tsdb_retention_size_bytes))
    return " or ".join(parts)


def _answer(data: Any) -> Response:
    return Response(jsonfmt.dumps({"status": "success", "data": data}), media_type="application/json")


def _bad_data(message: str) -> Response:
    body = {"status": "error", "errorType": "bad_data", "error": message}
    return Response(jsonfmt.dumps(body), status_code=400, media_type="application/json")


def _plain(value: Any, key: str = "") -> Any:
    """A dumped config as prometheus.yml writes it: durations as text, secrets as `<secret>`."""
    if isinstance(value, dict):
        return {k: _plain(v, k) for k, v in value.items() if v not in (None, [], {})}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    if key in _DURATIONS and isinstance(value, int | float):
        return prom_duration(round(value * 1000))
    if key in _SECRETS and value:
        return "<secret>"
    return value


def _scrape_config(config: ScrapeConfig, settings: Settings) -> dict[str, Any]:
    dumped = config.model_dump(mode="json", by_alias=True, exclude_defaults=True)
    out: dict[str, Any] = {"job_name": config.job_name}
    if config.honor_labels:
        out["honor_labels"] = True
    out["honor_timestamps"] = config.honor_timestamps
    out["scrape_interval"] = config.interval(settings.global_config)
    out["scrape_timeout"] = config.timeout(settings.global_config)
    out["metrics_path"] = config.metrics_path
    out["scheme"] = config.scheme
    out.update({k: v for k, v in dumped.items() if k not in out})
    plain: dict[str, Any] = _plain(out)
    return plain


def config_yaml(settings: Settings) -> str:
    """The Prometheus-shaped part of the configuration (global, rule_files, scrape_configs) as YAML."""
    defaults = settings.global_config
    top: dict[str, Any] = {
        "global": {
            "scrape_interval": defaults.scrape_interval,
            "scrape_timeout": defaults.scrape_timeout,
            "evaluation_interval": settings.rules_evaluation_interval,
            "external_labels": dict(defaults.external_labels),
        }
    }
    if settings.rule_files:
        top["rule_files"] = list(settings.rule_files)
    top = _plain(top)
    if settings.scrape_configs:
        top["scrape_configs"] = [_scrape_config(c, settings) for c in settings.scrape_configs]
    text: str = yaml.safe_dump(top, sort_keys=False, default_flow_style=False, allow_unicode=True)
    return text


@router.get(f"{API}/status/config", summary="The Prometheus-shaped configuration in use, as YAML", dependencies=READ)
async def status_config(nightowl: NightowlDep) -> Response:
    return _answer({"yaml": config_yaml(nightowl.settings)})


def flags(settings: Settings) -> dict[str, str]:
    """Nightowl's settings under the names of the Prometheus flags that mean the same."""
    return {
        "query.lookback-delta": prom_duration(round(settings.lookback_delta * 1000)),
        "query.max-samples": str(settings.query_max_samples),
        "query.timeout": prom_duration(round(settings.query_timeout * 1000)),
        "storage.remote.read-max-bytes-in-frame": str(settings.remote_read_max_bytes_in_frame),
        "storage.remote.read-sample-limit": str(settings.remote_read_max_samples),
        "storage.tsdb.min-block-duration": prom_duration(parse_duration_ms(settings.tsdb_block_duration)),
        "storage.tsdb.path": str(settings.data_dir / "tsdb"),
        "storage.tsdb.retention.size": prom_bytes(settings.tsdb_retention_size_bytes),
        "storage.tsdb.retention.time": prom_duration(parse_duration_ms(settings.tsdb_retention)),
        "web.enable-admin-api": "true",
        "web.enable-remote-write-receiver": "true",
        "web.external-url": settings.external_url,
        "web.listen-address": f"{settings.host}:{settings.port}",
        "web.route-prefix": "/prometheus",
    }


@router.get(f"{API}/status/flags", summary="Settings under the names of Prometheus's flags", dependencies=READ)
async def status_flags(nightowl: NightowlDep) -> Response:
    return _answer(flags(nightowl.settings))


def _limit(text: str | None, default: int) -> int:
    if text is None or text == "":
        return default
    try:
        value = int(text)
    except ValueError:
        raise InvalidInput(
            f'invalid parameter "limit": cannot parse "{text}" to a valid limit', field="limit"
        ) from None
    if value <= 0:
        raise InvalidInput('invalid parameter "limit": limit must be a positive number', field="limit")
    return value


@router.get(
    f"{API}/status/tsdb",
    summary="Cardinality of the series with samples in the head range (Prometheus's /status/tsdb)",
    dependencies=READ,
)
async def status_tsdb(request: Request, nightowl: NightowlDep) -> Response:
    """Series with samples within the last 1.5 x `tsdb_block_duration` (the range Prometheus's head
    covers); `limit` (default 10) entries per list."""
    try:
        limit = _limit(request.query_params.get("limit"), 10)
    except InvalidInput as exc:
        return _bad_data(exc.detail)
    now_ms = round(nightowl.clock.now() * 1000)
    start_ms = now_ms - parse_duration_ms(nightowl.settings.tsdb_block_duration) * 3 // 2
    everything = [[Matcher(METRIC_NAME, "=~", ".+")]]
    found = await run_in_threadpool(nightowl.storage.series, everything, start_ms, MAX_TIME_MS)
    stats = await run_in_threadpool(cardinality, found, limit)

    def items(pairs: list[tuple[str, int]]) -> list[dict[str, Any]]:
        return [{"name": name, "value": value} for name, value in pairs]

    return _answer(
        {
            "headStats": {
                "numSeries": stats.num_series,
                "numLabelPairs": stats.num_label_pairs,
                "chunkCount": stats.num_series,
                "minTime": start_ms if stats.num_series else 2**63 - 1,  # an empty head's, as Prometheus
                "maxTime": now_ms if stats.num_series else -(2**63),
            },
            "seriesCountByMetricName": items(stats.series_count_by_metric_name),
            "labelValueCountByLabelName": items(stats.label_value_count_by_label_name),
            "memoryInBytesByLabelName": items(stats.memory_in_bytes_by_label_name),
            "seriesCountByLabelValuePair": items(stats.series_count_by_label_value_pair),
        }
    )


@router.get(
    f"{API}/targets/metadata",
    summary="Metric metadata (TYPE, HELP, UNIT) as each scrape target last exposed it",
    dependencies=READ,
)
async def targets_metadata(request: Request, nightowl: NightowlDep) -> Response:
    """`match_target` (a label selector on target labels), `metric` (one metric name), `limit` (entries)."""
    params = request.query_params
    try:
        text = params.get("match_target", "")
        matchers = parse_selector(text, "match_target") if text else []
        limit = _limit(params.get("limit"), 0)
    except InvalidInput as exc:
        return _bad_data(
            f'invalid parameter "match_target": {exc.detail}' if exc.field == "match_target" else exc.detail
        )
    metric = params.get("metric") or None
    found: list[dict[str, Any]] = []
    for _job, pool in sorted(nightowl.scraper.pools.items()):
        for state in pool.targets.values():
            labels = dict(state.target.labels)
            if not all(m.matches(labels.get(m.name, "")) for m in matchers):
                continue
            for name, (kind, help_text, unit) in sorted(state.metadata.items()):
                if metric is not None and name != metric:
                    continue
                entry: dict[str, Any] = {"target": labels}
                if metric is None:
                    entry["metric"] = name
                entry.update({"type": kind, "help": help_text, "unit": unit})
                found.append(entry)
                if limit and len(found) >= limit:
                    return _answer(found)
    return _answer(found)


_TEXT: dict[int | str, dict[str, Any]] = {200: {"content": {"text/plain": {"schema": {"type": "string"}}}}}


@router.get("/prometheus/-/healthy", summary="Liveness probe, as Prometheus's /-/healthy", responses=_TEXT)
@router.head("/prometheus/-/healthy", include_in_schema=False)
async def healthy() -> Response:
    return Response("Prometheus Server is Healthy.\n", media_type="text/plain; charset=utf-8")


@router.get("/prometheus/-/ready", summary="Readiness probe, as Prometheus's /-/ready", responses=_TEXT)
@router.head("/prometheus/-/ready", include_in_schema=False)
async def ready(nightowl: NightowlDep) -> Response:
    if not (nightowl.migrated and nightowl.scheduler.running):
        return Response("Service Unavailable", status_code=503, media_type="text/plain; charset=utf-8")
    return Response("Prometheus Server is Ready.\n", media_type="text/plain; charset=utf-8")
