"""The Prometheus-compatible query API under /prometheus/api/v1 (what Grafana and promtool speak).

Answers use Prometheus's envelope (`status`, `data`, `errorType`, `error`, `warnings`), not problem
JSON: 400 bad_data for bad parameters, 422 execution for query errors and limits, 503 timeout.
"""

from __future__ import annotations

import math
import platform
import re
import time
from collections.abc import Callable
from datetime import datetime
from typing import Annotated, Any

import promql_parser as pp
from fastapi import APIRouter, Depends, Request, Response
from fastapi.concurrency import run_in_threadpool
from fastapi.routing import APIRoute
from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Receive, Scope, Send

from nightowl import __version__
from nightowl.api.deps import get_nightowl, requires
from nightowl.api.problems import error_response
from nightowl.api.prometheus_status import storage_retention
from nightowl.core.errors import NightowlError
from nightowl.metrics.api import QueryResult
from nightowl.metrics.model import Matcher
from nightowl.promql import extended, jsonfmt
from nightowl.promql.errors import PromQLError, QueryParseError
from nightowl.promql.parse import check_size, parse, selector_matchers
from nightowl.runtime import Nightowl
from nightowl.tsdb.tier_reads import at_most_resolution

router = APIRouter(prefix="/prometheus/api/v1", tags=["prometheus"], dependencies=[Depends(requires("read"))])
NightowlDep = Annotated[Nightowl, Depends(get_nightowl)]

MIN_TIME_MS = -9223372036854775 // 1000 * 1000
MAX_TIME_MS = 9223372036854775 // 1000 * 1000
_STATUS = {"bad_data": 400, "execution": 422, "timeout": 503, "canceled": 503, "unavailable": 503, "internal": 500}
_DURATION = re.compile(r"^(?:\d+(?:y|w|d|h|ms|m|s))+$")


class BadParameter(Exception):
    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


def _answer(data: Any, warnings: list[str] | None = None, infos: list[str] | None = None) -> Response:
    body: dict[str, Any] = {"status": "success", "data": data}
    if warnings:
        body["warnings"] = warnings
    if infos:
        body["infos"] = infos
    return Response(jsonfmt.dumps(body), media_type="application/json")


def _error(kind: str, message: str) -> Response:
    body = {"status": "error", "errorType": kind, "error": message}
    return Response(jsonfmt.dumps(body), status_code=_STATUS.get(kind, 422), media_type="application/json")


async def _params(request: Request) -> dict[str, list[str]]:
    """Query string and url-encoded form body together, as Prometheus reads them."""
    found: dict[str, list[str]] = {}
    for key, value in request.query_params.multi_items():
        found.setdefault(key, []).append(value)
    if request.method == "POST":
        form = await request.form()
        for key, item in form.multi_items():
            if isinstance(item, str):
                found.setdefault(key, []).append(item)
    return found


def _one(params: dict[str, list[str]], name: str) -> str | None:
    values = params.get(name)
    return values[0] if values else None


def parse_time(text: str, name: str) -> int:
    """Unix seconds (float) or RFC 3339, to milliseconds; a time outside what int64 milliseconds hold
    (`1e300`) is bad data, as are NaN and infinities."""
    try:
        seconds = float(text)
        if math.isfinite(seconds * 1000):  # 1.7e305 is finite, its milliseconds are not
            return _within_range(round(seconds * 1000), text, name)
        if math.isfinite(seconds):
            return _within_range(MAX_TIME_MS + 1 if seconds > 0 else MIN_TIME_MS - 1, text, name)
    except ValueError:
        pass
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
        if moment.tzinfo is not None:
            return _within_range(round(moment.timestamp() * 1000), text, name)
    except ValueError:
        pass
    if text in ("0001-01-01T00:00:00Z", "-292273086-05-16T16:47:06Z"):
        return MIN_TIME_MS
    raise BadParameter(f'invalid parameter "{name}": cannot parse "{text}" to a valid timestamp')


def _within_range(ms: int, text: str, name: str) -> int:
    if not MIN_TIME_MS <= ms <= MAX_TIME_MS:
        raise BadParameter(
            f'invalid parameter "{name}": cannot parse "{text}" to a valid timestamp: out of range '
            f"(Unix seconds from {MIN_TIME_MS // 1000} to {MAX_TIME_MS // 1000})"
        )
    return ms


def parse_duration(text: str, name: str) -> int:
    """Seconds (float) or a Prometheus duration like 1m30s, to milliseconds."""
    try:
        seconds = float(text)
    except ValueError:
        seconds = None
    if seconds is not None:
        if not math.isfinite(seconds) or seconds * 1000 >= 2**63:
            raise BadParameter(
                f'invalid parameter "{name}": cannot parse "{text}" to a valid duration. It overflows int64'
            )
        return round(seconds * 1000)
    if _DURATION.match(text):
        try:
            td = pp.parse_duration(text)
            return td.days * 86_400_000 + td.seconds * 1000 + td.microseconds // 1000
        except BaseException as exc:
            if isinstance(exc, (KeyboardInterrupt, SystemExit)):
                raise
    raise BadParameter(f'invalid parameter "{name}": cannot parse "{text}" to a valid duration')


def _timeout(params: dict[str, list[str]], nightowl: Nightowl) -> float:
    limit = nightowl.settings.query_timeout
    text = _one(params, "timeout")
    if text is None:
        return limit
    return min(limit, parse_duration(text, "timeout") / 1000)


def _max_source_resolution(params: dict[str, list[str]]) -> int | None:
    """Thanos' `max_source_resolution` (`raw`/`0s`, `5m`, `1h`, `auto`) or `downsampling=false`: the
    coarsest TSDB tier this query may read where raw samples exist; None: chosen from step and range."""
    if (_one(params, "downsampling") or "").lower() in ("false", "0", "no", "off"):
        return 0
    text = _one(params, "max_source_resolution")
    if text is None or text == "auto":
        return None
    if text in ("raw", "0", "0s"):
        return 0
    return parse_duration(text, "max_source_resolution")


def _stats(result: QueryResult, started: float) -> dict[str, Any]:
    elapsed = time.perf_counter() - started
    return {
        "timings": {
            "evalTotalTime": elapsed,
            "resultSortTime": 0,
            "queryPreparationTime": 0,
            "innerEvalTime": elapsed,
            "execQueueTime": 0,
            "execTotalTime": elapsed,
        },
        "samples": {"totalQueryableSamples": result.samples_loaded, "peakSamples": result.samples_loaded},
    }


INLINE_BELOW_S = 0.005
"""Queries whose evaluation last took less than this run on the event loop: for them the hand-off to a
worker thread and back (two thread wake-ups, each a wait for a core when the machine is busy) costs as
much as the evaluation."""
_RECENT_KEPT = 1024
_recent: dict[tuple[str, int, int | None], float] = {}


async def _evaluate(
    nightowl: Nightowl,
    key: tuple[str, int, int | None],
    flight: tuple[int, ...],
    evaluate: Callable[[float], QueryResult],
    timeout_s: float,
) -> QueryResult:
    """Evaluate through the query gate (a worker thread, a bounded number at once), or inline when the
    same query (text, points) was quick last time.

    A query's cost changes slowly (series and samples grow gradually), so the event loop is held at
    most about as long as a query known to be quick, and one that got slower goes back to the worker
    threads on its next run. `flight` (the query's times and timeout) with `key` names an identical
    query, whose evaluation in flight is shared.
    """

    def timed(remaining_s: float) -> tuple[QueryResult, float]:
        started = time.perf_counter()
        return evaluate(remaining_s), time.perf_counter() - started

    last = _recent.get(key)
    if last is not None and last < INLINE_BELOW_S:
        result, took = timed(timeout_s)
    else:
        result, took = await nightowl.query_gate.run_shared((key, flight), timed, timeout_s)
    if len(_recent) >= _RECENT_KEPT:
        _recent.clear()
    _recent[key] = took
    return result


async def _run_query(request: Request, nightowl: Nightowl, ranged: bool) -> Response:
    started = time.perf_counter()
    try:
        params = await _params(request)
        query = _one(params, "query")
        if query is None:
            raise BadParameter('invalid parameter "query": no query provided')
        settings = nightowl.settings
        check_size(query, settings.query_max_length, settings.query_max_depth, settings.query_max_operators)
        timeout = _timeout(params, nightowl)
        engine = nightowl.query_engine
        resolution = _max_source_resolution(params)
        if ranged:
            start_text, end_text, step_text = (_one(params, k) for k in ("start", "end", "step"))
            if start_text is None or end_text is None:
                missing = "start" if start_text is None else "end"
                raise BadParameter(f'invalid parameter "{missing}": cannot parse "" to a valid timestamp')
            start, end = parse_time(start_text, "start"), parse_time(end_text, "end")
            if end < start:
                raise BadParameter('invalid parameter "end": end timestamp must not be before start time')
            if step_text is None:
                raise BadParameter('invalid parameter "step": cannot parse "" to a valid duration')
            step = parse_duration(step_text, "step")
            if step <= 0:
                raise BadParameter(
                    'invalid parameter "step": zero or negative query resolution step widths are not accepted. '
                    "Try a positive integer"
                )
            if (end - start) // step >= 11_000:
                raise BadParameter(
                    "exceeded maximum resolution of 11,000 points per timeseries. "
                    "Try decreasing the query resolution (?step=XX)"
                )
            run_range = at_most_resolution(resolution, engine.range)
            result = await _evaluate(
                nightowl,
                (query, (end - start) // step, resolution),
                (start, end, step, round(timeout * 1000)),
                lambda remaining: run_range(query, start, end, step, timeout_s=remaining),
                timeout,
            )
        else:
            time_text = _one(params, "time")
            at = parse_time(time_text, "time") if time_text else int(nightowl.clock.now() * 1000)
            run_instant = at_most_resolution(resolution, engine.instant)
            result = await _evaluate(
                nightowl,
                (query, -1, resolution),
                (at, round(timeout * 1000)),
                lambda remaining: run_instant(query, at, timeout_s=remaining),
                timeout,
            )
    except BadParameter as exc:
        return _error("bad_data", exc.message)
    except HTTPException as exc:  # an unreadable form body; the lean query path has no handler for it
        return _error("bad_data", f"cannot read the form body: {exc.detail}")
    except QueryParseError as exc:
        return _error("bad_data", f'invalid parameter "query": {exc.message}')
    except PromQLError as exc:
        return _error(exc.kind, exc.message)
    extra = {"stats": _stats(result, started)} if _one(params, "stats") else None
    body = f'{{"status":"success","data":{jsonfmt.render_data(result, extra)}'
    if result.warnings:
        body += f',"warnings":{jsonfmt.dumps({"w": result.warnings}).decode()[5:-1]}'
    if result.infos:
        body += f',"infos":{jsonfmt.dumps({"i": result.infos}).decode()[5:-1]}'
    return Response(body + "}", media_type="application/json")


@router.get("/query", summary="Instant query")
@router.post("/query", summary="Instant query")
async def query(request: Request, nightowl: NightowlDep) -> Response:
    return await _run_query(request, nightowl, ranged=False)


@router.get("/query_range", summary="Range query")
@router.post("/query_range", summary="Range query")
async def query_range(request: Request, nightowl: NightowlDep) -> Response:
    return await _run_query(request, nightowl, ranged=True)


class QueryFastPath:
    """ASGI shortcut to /query and /query_range, behind authentication, rate limits and the body limit.

    Dashboards send these all day, many answering in a few milliseconds: the ~100 routes FastAPI would
    match in turn and its dependency solving cost about as much as a small query. The routes stay
    registered (OpenAPI, other methods' 405) and this answers exactly as they do.
    """

    def __init__(self, app: ASGIApp, nightowl: Nightowl) -> None:
        self.app, self.nightowl = app, nightowl
        self.guard = requires("read")
        self.routes = {
            route.path: (route, route.path.endswith("_range"))
            for route in router.routes
            if isinstance(route, APIRoute) and route.path in (f"{router.prefix}/query", f"{router.prefix}/query_range")
        }

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        found = self.routes.get(scope.get("path", "")) if scope["type"] == "http" else None
        if found is None or scope["method"] not in ("GET", "POST") or scope.get("root_path"):
            await self.app(scope, receive, send)
            return
        route, ranged = found
        scope["route"] = route  # the request metrics label by route template
        request = Request(scope, receive)
        try:
            self.guard(request)
        except NightowlError as exc:
            await error_response(exc)(scope, receive, send)
            return
        response = await _run_query(request, self.nightowl, ranged)
        await response(scope, receive, send)


def _parse(text: str, nightowl: Nightowl) -> pp.Expr:
    """`text`'s tree under the configured query size and shape limits."""
    settings = nightowl.settings
    return parse(
        text,
        settings.query_max_length,
        max_depth=settings.query_max_depth,
        max_operators=settings.query_max_operators,
    )


def _matcher_sets(params: dict[str, list[str]], nightowl: Nightowl) -> list[list[Matcher]]:
    sets: list[list[Matcher]] = []
    for text in params.get("match[]", []):
        try:
            expr = _parse(text, nightowl)
        except QueryParseError as exc:
            raise BadParameter(f'invalid parameter "match[]": {exc.message}') from None
        if not isinstance(expr, pp.VectorSelector):
            raise BadParameter(f'invalid parameter "match[]": 1:1: parse error: unexpected expression "{text}"')
        sets.extend(selector_matchers(expr))
    return sets


def _window(params: dict[str, list[str]]) -> tuple[int, int, int]:
    start_text, end_text, limit_text = _one(params, "start"), _one(params, "end"), _one(params, "limit")
    start = parse_time(start_text, "start") if start_text else MIN_TIME_MS
    end = parse_time(end_text, "end") if end_text else MAX_TIME_MS
    limit = 0
    if limit_text:
        try:
            limit = int(limit_text)
        except ValueError:
            raise BadParameter(f'invalid parameter "limit": cannot parse "{limit_text}" to a valid limit') from None
        if limit < 0:
            raise BadParameter('invalid parameter "limit": limit must be non-negative')
    return start, end, limit


@router.get("/series", summary="Series matching selectors")
@router.post("/series", summary="Series matching selectors")
async def series(request: Request, nightowl: NightowlDep) -> Response:
    try:
        params = await _params(request)
        sets = _matcher_sets(params, nightowl)
        if not sets:
            raise BadParameter("no match[] parameter provided")
        start, end, limit = _window(params)
    except BadParameter as exc:
        return _error("bad_data", exc.message)
    found = await run_in_threadpool(nightowl.storage.series, sets, start, end, limit)
    return _answer([dict(labels) for labels in found])


@router.get("/labels", summary="Label names")
@router.post("/labels", summary="Label names")
async def labels(request: Request, nightowl: NightowlDep) -> Response:
    try:
        params = await _params(request)
        sets = _matcher_sets(params, nightowl)
        start, end, limit = _window(params)
    except BadParameter as exc:
        return _error("bad_data", exc.message)
    names = await run_in_threadpool(nightowl.storage.label_names, sets, start, end, limit)
    return _answer(names)


@router.get("/label/{name}/values", summary="Values of one label")
async def label_values(name: str, request: Request, nightowl: NightowlDep) -> Response:
    if name.startswith("U__"):
        name = _decode_utf8_name(name)
    try:
        params = await _params(request)
        sets = _matcher_sets(params, nightowl)
        start, end, limit = _window(params)
    except BadParameter as exc:
        return _error("bad_data", exc.message)
    values = await run_in_threadpool(nightowl.storage.label_values, name, sets, start, end, limit)
    return _answer(values)


def _decode_utf8_name(name: str) -> str:
    """Prometheus's U__ escaping of label names in URL paths (`_2e_` -> `.`, `__` -> `_`)."""
    body = name[3:]
    out: list[str] = []
    i = 0
    while i < len(body):
        if body.startswith("__", i):
            out.append("_")
            i += 2
            continue
        match = re.match(r"_([0-9a-fA-F]+)_", body[i:])
        if match:
            out.append(chr(int(match.group(1), 16)))
            i += len(match.group(0))
            continue
        out.append(body[i])
        i += 1
    return "".join(out)


@router.get("/metadata", summary="Metric metadata (TYPE, HELP, UNIT)")
async def metadata(request: Request, nightowl: NightowlDep) -> Response:
    params = await _params(request)
    metric = _one(params, "metric") or None
    try:
        _, _, limit = _window({"limit": params.get("limit", [])})
    except BadParameter as exc:
        return _error("bad_data", exc.message)
    found = nightowl.storage.metadata(metric, limit)
    data = {name: [{"type": m.type, "help": m.help, "unit": m.unit} for m in items] for name, items in found.items()}
    return _answer(data)


@router.get("/query_exemplars", summary="Exemplars (none are stored)")
@router.post("/query_exemplars", summary="Exemplars (none are stored)")
async def query_exemplars(request: Request, nightowl: NightowlDep) -> Response:
    try:
        params = await _params(request)
        text = _one(params, "query")
        if text is None:
            raise BadParameter('invalid parameter "query": no query provided')
        _parse(text, nightowl)
        _window(params)
    except BadParameter as exc:
        return _error("bad_data", exc.message)
    except QueryParseError as exc:
        return _error("bad_data", exc.message)
    return _answer([])


@router.get("/format_query", summary="Pretty-print a PromQL expression")
@router.post("/format_query", summary="Pretty-print a PromQL expression")
async def format_query(request: Request, nightowl: NightowlDep) -> Response:
    params = await _params(request)
    text = _one(params, "query")
    if text is None:
        return _error("bad_data", 'invalid parameter "query": no query provided')
    try:
        expr = _parse(text, nightowl)
        pretty = extended.restore(expr.prettify())
    except QueryParseError as exc:
        return _error("bad_data", exc.message)
    except BaseException as exc:
        if isinstance(exc, (KeyboardInterrupt, SystemExit)):
            raise
        return _error("bad_data", f"cannot format query: {exc}")
    return _answer(pretty)


@router.get("/status/buildinfo", summary="Version information (Prometheus-compatible)")
async def buildinfo() -> Response:
    return _answer(
        {
            "version": __version__,
            "revision": "",
            "branch": "",
            "buildUser": "",
            "buildDate": "",
            "goVersion": f"python{platform.python_version()}",
            "application": "nightowl",
        }
    )


@router.get("/status/runtimeinfo", summary="Runtime information (Prometheus-compatible)")
async def runtimeinfo(nightowl: NightowlDep) -> Response:
    started = nightowl.clock.now() - (nightowl.clock.monotonic() - nightowl.started_monotonic)
    return _answer(
        {
            "startTime": datetime.fromtimestamp(started).astimezone().isoformat(),
            "CWD": str(nightowl.settings.data_dir.resolve().parent),
            "reloadConfigSuccess": True,
            "lastConfigTime": datetime.fromtimestamp(started).astimezone().isoformat(),
            "corruptionCount": 0,
            "goroutineCount": 0,
            "GOMAXPROCS": 0,
            "GOGC": "",
            "GODEBUG": "",
            "storageRetention": storage_retention(nightowl.settings),
            "lookbackDelta": f"{nightowl.settings.lookback_delta:g}s",
        }
    )
