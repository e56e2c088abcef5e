"""`GET /prometheus/federate`: the newest sample of every series matching `match[]`, as exposition text,
so a Prometheus can scrape Nightowl with `honor_labels: true` (hierarchical federation)."""

from __future__ import annotations

from typing import Annotated

import promql_parser as pp
from fastapi import APIRouter, Depends, Request, Response
from fastapi.concurrency import run_in_threadpool

from nightowl.api.deps import get_nightowl, requires
from nightowl.federation.federate import CONTENT_TYPE, newest, render
from nightowl.metrics.model import Labels, Matcher
from nightowl.promql.errors import QueryParseError
from nightowl.promql.parse import parse, selector_matchers
from nightowl.runtime import Nightowl

router = APIRouter(tags=["prometheus"])
NightowlDep = Annotated[Nightowl, Depends(get_nightowl)]


def _matcher_sets(selectors: list[str], max_length: int) -> list[list[Matcher]]:
    sets: list[list[Matcher]] = []
    for text in selectors:
        expr = parse(text, max_length)
        if not isinstance(expr, pp.VectorSelector):
            raise QueryParseError(f'1:1: parse error: unexpected expression "{text}": want a series selector')
        sets.extend(selector_matchers(expr))
    return sets


def _collect(nightowl: Nightowl, sets: list[list[Matcher]]) -> str:
    now_ms = round(nightowl.clock.now() * 1000)
    since_ms = now_ms - round(nightowl.settings.lookback_delta * 1000)
    found: dict[Labels, tuple[int, float]] = {}
    for matchers in sets:
        for series in nightowl.storage.select(matchers, since_ms, now_ms):
            if series.labels not in found:
                sample = newest(series, since_ms)
                if sample is not None:
                    found[series.labels] = sample
    external = nightowl.settings.global_config.external_labels
    return render(((labels, ts, value) for labels, (ts, value) in found.items()), external)


@router.get(
    "/prometheus/federate",
    summary="Newest sample of each series matching match[], as Prometheus text (federation)",
    response_class=Response,
    dependencies=[Depends(requires("read"))],
)
async def federate(request: Request, nightowl: NightowlDep) -> Response:
    """`match[]` (repeatable series selectors). Each series' newest sample within the lookback delta,
    with the external labels (`global.external_labels`) it lacks; none asked, none given."""
    try:
        sets = _matcher_sets(request.query_params.getlist("match[]"), nightowl.settings.query_max_length)
    except QueryParseError as exc:
        return Response(exc.message + "\n", status_code=400, media_type="text/plain; charset=utf-8")
    text = await run_in_threadpool(_collect, nightowl, sets) if sets else ""
    return Response(text, media_type=CONTENT_TYPE)
