"""Alertmanager API v2: Prometheus and vmalert post alerts here (`alerting.alertmanagers`), amtool reads.

Times are RFC 3339; an alert without `endsAt` resolves after `resolve_timeout` unless re-sent.
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query
from fastapi.concurrency import run_in_threadpool
from pydantic import BaseModel, Field

from nightowl import __version__
from nightowl.api.deps import get_nightowl, requires
from nightowl.core.errors import InvalidInput, LimitExceeded
from nightowl.core.regex import RegexError, compile_regex
from nightowl.notify.message import iso
from nightowl.routing import dispatcher as ops
from nightowl.routing.alert import Alert
from nightowl.routing.matchers import Matcher, Op, matches_all, parse_matchers
from nightowl.routing.redacted import redacted_yaml
from nightowl.routing.router import AlertStatus
from nightowl.routing.silences import Silence
from nightowl.runtime import Nightowl

router = APIRouter(prefix="/api/v2", tags=["alertmanager-v2"])
Runtime = Annotated[Nightowl, Depends(get_nightowl)]
MAX_ALERTS_PER_POST = 10_000
_LABEL_NAME = re.compile(r"[a-zA-Z_][a-zA-Z0-9_]*")
_ZERO_TIME = "0001-01-01T00:00:00Z"


class PostableAlert(BaseModel):
    labels: dict[str, str]
    annotations: dict[str, str] = Field(default_factory=dict)
    startsAt: str | None = None
    endsAt: str | None = None
    generatorURL: str = ""


class MatcherModel(BaseModel):
    name: str
    value: str
    isRegex: bool = False
    isEqual: bool = True


class PostableSilence(BaseModel):
    id: str | None = None
    matchers: list[MatcherModel]
    startsAt: str
    endsAt: str
    createdBy: str
    comment: str


def parse_time(value: str | None, field: str) -> float | None:
    if value is None or value == "" or value.startswith("0001-01-01"):
        return None
    try:
        return datetime.fromisoformat(value.replace("Z", "+00:00")).timestamp()
    except ValueError:
        raise InvalidInput(f"{field}: {value!r} is not an RFC 3339 time", field=field) from None


def to_alert(item: PostableAlert, index: int, now: float) -> Alert:
    labels = {k: v for k, v in item.labels.items() if v != ""}
    if not labels:
        raise InvalidInput(f"alerts[{index}]: at least one label is required", field=f"[{index}].labels")
    for name in labels:
        if not _LABEL_NAME.fullmatch(name):
            raise InvalidInput(
                f"alerts[{index}]: label name {name!r} is invalid: must match [a-zA-Z_][a-zA-Z0-9_]*",
                field=f"[{index}].labels",
            )
    starts = parse_time(item.startsAt, f"[{index}].startsAt")
    ends = parse_time(item.endsAt, f"[{index}].endsAt")
    if starts is None:
        starts = min(now, ends) if ends is not None else now
    if ends is not None and ends < starts:
        raise InvalidInput(f"alerts[{index}]: endsAt is before startsAt", field=f"[{index}].endsAt")
    return Alert(labels, dict(item.annotations), starts, ends, item.generatorURL, now)


def gettable_alert(alert: Alert, status: AlertStatus) -> dict[str, Any]:
    return {
        "labels": alert.labels,
        "annotations": alert.annotations,
        "startsAt": iso(alert.starts_at),
        "endsAt": iso(alert.ends_at),
        "updatedAt": iso(alert.updated_at),
        "generatorURL": alert.generator_url,
        "fingerprint": alert.fingerprint,
        "receivers": [{"name": r} for r in status.receivers],
        "status": {"state": status.state, "silencedBy": status.silenced_by, "inhibitedBy": status.inhibited_by},
    }


@router.post("/alerts", summary="Receive alerts (Alertmanager API v2)", dependencies=[Depends(requires("ingest"))])
async def post_alerts(items: list[PostableAlert], nightowl: Runtime) -> dict[str, Any]:
    if len(items) > MAX_ALERTS_PER_POST:
        raise LimitExceeded(f"at most {MAX_ALERTS_PER_POST} alerts per request, got {len(items)}")
    now = nightowl.clock.now()
    alerts = [to_alert(item, i, now) for i, item in enumerate(items)]
    await run_in_threadpool(nightowl.pipeline.dispatcher.receive, alerts)
    return {}


def _filters(filter_: list[str]) -> list[Matcher]:
    matchers: list[Matcher] = []
    for text in filter_:
        matchers.extend(parse_matchers(text))
    return matchers


@router.get(
    "/alerts", summary="List alerts with their silenced/inhibited state", dependencies=[Depends(requires("read"))]
)
async def get_alerts(
    nightowl: Runtime,
    active: bool = True,
    silenced: bool = True,
    inhibited: bool = True,
    unprocessed: bool = True,
    filter_: Annotated[list[str], Query(alias="filter")] = [],  # noqa: B006
    receiver: str | None = None,
) -> list[dict[str, Any]]:
    matchers = _filters(filter_)
    try:
        receiver_re = compile_regex(receiver) if receiver else None
    except RegexError as exc:
        raise InvalidInput(f"receiver: invalid regex: {exc}", field="receiver") from None
    now = nightowl.clock.now()
    out: list[dict[str, Any]] = []
    for alert, status in await run_in_threadpool(nightowl.pipeline.dispatcher.alerts):
        if alert.resolved(now) or not matches_all(matchers, alert.labels):
            continue
        if status.silenced_by and not silenced or status.inhibited_by and not inhibited:
            continue
        if status.state == "active" and not active:
            continue
        if receiver_re and not any(receiver_re.matches(r) for r in status.receivers):
            continue
        out.append(gettable_alert(alert, status))
    return sorted(out, key=lambda a: (a["startsAt"], a["fingerprint"]))


@router.get("/alerts/groups", summary="Alert groups by receiver", dependencies=[Depends(requires("read"))])
async def get_alert_groups(
    nightowl: Runtime,
    filter_: Annotated[list[str], Query(alias="filter")] = [],  # noqa: B006
) -> list[dict[str, Any]]:
    matchers = _filters(filter_)
    now = nightowl.clock.now()
    out = []
    for labels, receiver, members in await run_in_threadpool(nightowl.pipeline.dispatcher.groups):
        alerts = [gettable_alert(a, s) for a, s in members if not a.resolved(now) and matches_all(matchers, a.labels)]
        if alerts:
            out.append({"labels": labels, "receiver": {"name": receiver}, "alerts": alerts})
    return sorted(out, key=lambda g: (g["receiver"]["name"], sorted(g["labels"].items())))


def gettable_silence(silence: Silence, now: float) -> dict[str, Any]:
    return {
        "id": silence.id,
        "status": {"state": silence.state(now)},
        "updatedAt": iso(silence.updated_at),
        "matchers": [
            {"name": m.name, "value": m.value, "isRegex": m.is_regex, "isEqual": m.is_equal} for m in silence.matchers
        ],
        "startsAt": iso(silence.starts_at),
        "endsAt": iso(silence.ends_at),
        "createdBy": silence.created_by,
        "comment": silence.comment,
    }


_OPS: dict[tuple[bool, bool], Op] = {(False, True): "=", (False, False): "!=", (True, True): "=~", (True, False): "!~"}


@router.get("/silences", summary="List silences", dependencies=[Depends(requires("read"))])
async def get_silences(
    nightowl: Runtime,
    filter_: Annotated[list[str], Query(alias="filter")] = [],  # noqa: B006
) -> list[dict[str, Any]]:
    wanted = _filters(filter_)
    now = nightowl.clock.now()
    silences = await run_in_threadpool(ops.list_silences, nightowl.engine)
    order = {"active": 0, "pending": 1, "expired": 2}
    result = [gettable_silence(s, now) for s in silences if all(any(m == w for m in s.matchers) for w in wanted)]
    return sorted(result, key=lambda s: (order[s["status"]["state"]], s["endsAt"]))


@router.post("/silences", summary="Create or update a silence", dependencies=[Depends(requires("write"))])
async def post_silence(body: PostableSilence, nightowl: Runtime) -> dict[str, str]:
    now = nightowl.clock.now()
    starts = parse_time(body.startsAt, "startsAt")
    ends = parse_time(body.endsAt, "endsAt")
    if starts is None or ends is None:
        raise InvalidInput("startsAt and endsAt are required", field="endsAt")
    matchers = tuple(Matcher(m.name, _OPS[(m.isRegex, m.isEqual)], m.value) for m in body.matchers)
    for m in matchers:
        if not _LABEL_NAME.fullmatch(m.name):
            raise InvalidInput(f"matcher label name {m.name!r} is invalid", field="matchers")
    # a start in the past means "from now", as in Alertmanager
    silence = Silence(body.id or "", matchers, max(starts, now), ends, body.createdBy, body.comment)
    saved = await run_in_threadpool(ops.put_silence, nightowl.engine, silence, now)
    # at once, not at the next dispatch tick: `amtool silence add` then `amtool alert query` shows it silenced
    await run_in_threadpool(nightowl.pipeline.dispatcher.reload_silences)
    return {"silenceID": saved.id}


@router.get("/silence/{silence_id}", summary="One silence", dependencies=[Depends(requires("read"))])
async def get_silence(silence_id: str, nightowl: Runtime) -> dict[str, Any]:
    silence = await run_in_threadpool(ops.get_silence, nightowl.engine, silence_id)
    return gettable_silence(silence, nightowl.clock.now())


@router.delete("/silence/{silence_id}", summary="Expire a silence", dependencies=[Depends(requires("write"))])
async def delete_silence(silence_id: str, nightowl: Runtime) -> dict[str, Any]:
    await run_in_threadpool(ops.expire_silence, nightowl.engine, silence_id, nightowl.clock.now())
    await run_in_threadpool(nightowl.pipeline.dispatcher.reload_silences)
    return {}


@router.get("/receivers", summary="Receiver names", dependencies=[Depends(requires("read"))])
async def get_receivers(nightowl: Runtime) -> list[dict[str, str]]:
    return [{"name": name} for name in nightowl.pipeline.config.receivers]


@router.get("/status", summary="Alertmanager-style status", dependencies=[Depends(requires("read"))])
async def get_status(nightowl: Runtime) -> dict[str, Any]:
    config = nightowl.pipeline.config
    return {
        "cluster": {"status": "disabled", "peers": [], "name": "nightowl"},
        "versionInfo": {
            "version": __version__,
            "revision": "",
            "branch": "",
            "buildUser": "",
            "buildDate": "",
            "goVersion": "",
        },
        "config": {"original": redacted_yaml(config.original)},
        "uptime": iso(nightowl.clock.now() - (nightowl.clock.monotonic() - nightowl.started_monotonic)),
    }
