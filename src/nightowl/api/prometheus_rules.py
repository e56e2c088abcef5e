"""`/prometheus/api/v1/rules` and `/prometheus/api/v1/alerts`, answering as Prometheus does."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request, Response

from nightowl.alerting.views import prom_alert, prom_groups
from nightowl.api.deps import get_nightowl, requires
from nightowl.promql import jsonfmt
from nightowl.runtime import Nightowl

router = APIRouter(prefix="/prometheus/api/v1", tags=["prometheus"], dependencies=[Depends(requires("read"))])


def _answer(data: object, status: int = 200) -> Response:
    return Response(jsonfmt.dumps({"status": "success", "data": data}), status, media_type="application/json")


@router.get("/rules", summary="Alerting and recording rules with their state (Prometheus API)")
async def rules(request: Request, nightowl: Nightowl = Depends(get_nightowl)) -> Response:
    q = request.query_params
    kind = q.get("type", "")
    if kind not in ("", "alert", "record"):
        body = {"status": "error", "errorType": "bad_data", "error": f"unsupported type {kind!r}"}
        return Response(jsonfmt.dumps(body), 400, media_type="application/json")
    groups = prom_groups(
        nightowl.rules.evaluator,
        kind,
        set(q.getlist("rule_name[]")),
        set(q.getlist("rule_group[]")),
        set(q.getlist("file[]")),
        q.get("exclude_alerts", "") == "true",
    )
    return _answer({"groups": groups})


@router.get("/alerts", summary="Active alerts of the alerting rules (Prometheus API)")
async def alerts(nightowl: Nightowl = Depends(get_nightowl)) -> Response:
    active = [prom_alert(i) for _, i in nightowl.rules.evaluator.all_instances() if i.active]
    return _answer({"alerts": active})
