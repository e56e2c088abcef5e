"""`/api/v1/alert-rules`: threshold rules (CRUD, /test) and Prometheus rule groups (CRUD, YAML import/export)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Request, Response
from fastapi.concurrency import run_in_threadpool

from nightowl.alerting.manager import API_SOURCE
from nightowl.alerting.rules import dump_groups, rule_dict
from nightowl.alerting.threshold import ThresholdRule, compile_rule
from nightowl.api.deps import get_nightowl, requires
from nightowl.core.errors import InvalidInput, LimitExceeded
from nightowl.core.ids import new_id
from nightowl.runtime import Nightowl

router = APIRouter(prefix="/api/v1/alert-rules", tags=["alert rules"])
READ = [Depends(requires("read"))]
WRITE = [Depends(requires("write"))]
MAX_YAML = 1 << 20


def _view(nightowl: Nightowl, rule_id: str, rule: ThresholdRule) -> dict[str, Any]:
    group = compile_rule(rule_id, rule, nightowl.rules.evaluator.default_interval)
    return {"id": rule_id, **rule.model_dump(), "compiled": [rule_dict(r) for r in group.rules]}


async def _yaml_body(request: Request) -> str:
    body = await request.body()
    if len(body) > MAX_YAML:
        raise LimitExceeded(f"rule YAML is larger than {MAX_YAML} bytes", field="body")
    try:
        return body.decode("utf-8")
    except UnicodeDecodeError:
        raise InvalidInput("rule YAML must be UTF-8", field="body") from None


# ---- Prometheus rule groups ------------------------------------------------------------------------------------


@router.get("/groups", summary="Rule groups from files and the API", dependencies=READ)
def list_groups(nightowl: Nightowl = Depends(get_nightowl)) -> dict[str, Any]:
    groups = nightowl.rules.evaluator.groups.values()
    items = [
        {
            "name": g.name,
            "file": g.file,
            "editable": g.file == API_SOURCE,
            "interval": nightowl.rules.evaluator.interval(g),
            "rules": [rule_dict(r) for r in g.rules],
        }
        for g in groups
    ]
    return {"items": items, "last_reload_error": nightowl.rules.last_error or None}


@router.get(
    "/groups/export",
    summary="Every rule group as a Prometheus rule file (YAML)",
    dependencies=READ,
    responses={200: {"content": {"application/yaml": {"schema": {"type": "string"}}}}},
)
def export_groups(nightowl: Nightowl = Depends(get_nightowl)) -> Response:
    text = dump_groups(list(nightowl.rules.evaluator.groups.values()))
    return Response(text, media_type="application/yaml")


@router.post("/groups", summary="Import rule groups from rule-file YAML", status_code=201, dependencies=WRITE)
async def import_groups(request: Request, nightowl: Nightowl = Depends(get_nightowl)) -> dict[str, Any]:
    from nightowl.alerting.rules import parse_rule_file

    text = await _yaml_body(request)
    groups = parse_rule_file(text, API_SOURCE)
    if not groups:
        raise InvalidInput("no groups in the YAML", field="groups")
    for group in groups:
        single = dump_groups([group]) if len(groups) > 1 else text
        await run_in_threadpool(nightowl.rules.put_group, single, create=True)
    return {"imported": [g.name for g in groups]}


@router.put("/groups/{name}", summary="Replace an API rule group (rule-file YAML)", dependencies=WRITE)
async def replace_group(name: str, request: Request, nightowl: Nightowl = Depends(get_nightowl)) -> dict[str, Any]:
    text = await _yaml_body(request)
    group = await run_in_threadpool(nightowl.rules.put_group, text, create=False, name=name)
    return {"name": group.name, "rules": [rule_dict(r) for r in group.rules]}


@router.delete("/groups/{name}", summary="Delete an API rule group", status_code=204, dependencies=WRITE)
async def delete_group(name: str, nightowl: Nightowl = Depends(get_nightowl)) -> Response:
    await run_in_threadpool(nightowl.rules.delete_group, name)
    return Response(status_code=204)


# ---- threshold rules -------------------------------------------------------------------------------------------


@router.get("", summary="Threshold rules", dependencies=READ)
def list_rules(nightowl: Nightowl = Depends(get_nightowl)) -> dict[str, Any]:
    return {"items": [_view(nightowl, rid, rule) for rid, rule in nightowl.rules.threshold_rules()]}


@router.post("", summary="Create a threshold rule", status_code=201, dependencies=WRITE)
def create_rule(body: ThresholdRule, nightowl: Nightowl = Depends(get_nightowl)) -> dict[str, Any]:
    rule_id = new_id()
    rule = nightowl.rules.save_threshold_rule(rule_id, body, create=True)
    return _view(nightowl, rule_id, rule)


@router.get("/{rule_id}", summary="One threshold rule", dependencies=READ)
def get_rule(rule_id: str, nightowl: Nightowl = Depends(get_nightowl)) -> dict[str, Any]:
    return _view(nightowl, rule_id, nightowl.rules.threshold_rule(rule_id))


@router.put("/{rule_id}", summary="Replace a threshold rule", dependencies=WRITE)
def replace_rule(rule_id: str, body: ThresholdRule, nightowl: Nightowl = Depends(get_nightowl)) -> dict[str, Any]:
    rule = nightowl.rules.save_threshold_rule(rule_id, body, create=False)
    return _view(nightowl, rule_id, rule)


@router.delete("/{rule_id}", summary="Delete a threshold rule", status_code=204, dependencies=WRITE)
def delete_rule(rule_id: str, nightowl: Nightowl = Depends(get_nightowl)) -> Response:
    nightowl.rules.delete_threshold_rule(rule_id)
    return Response(status_code=204)


@router.post("/{rule_id}/test", summary="Evaluate a rule now and show what would fire", dependencies=READ)
def test_rule(rule_id: str, nightowl: Nightowl = Depends(get_nightowl)) -> dict[str, Any]:
    rule = nightowl.rules.threshold_rule(rule_id)
    group = compile_rule(rule_id, rule, nightowl.rules.evaluator.default_interval)
    try:
        alerts = nightowl.rules.evaluator.preview(group)
    except Exception as exc:
        raise InvalidInput(f"evaluation failed: {exc}", field="expr") from None
    return {"id": rule_id, "alerts": alerts}
