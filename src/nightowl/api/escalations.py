"""/api/v1/escalation-policies and /api/v1/escalations: who is paged in which order, and acknowledgement."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends
from fastapi.concurrency import run_in_threadpool
from pydantic import BaseModel, Field

from nightowl.api.deps import get_nightowl, requires
from nightowl.routing.escalation import Escalation, policy_to_dict
from nightowl.runtime import Nightowl

router = APIRouter(prefix="/api/v1", tags=["escalations"])
Runtime = Annotated[Nightowl, Depends(get_nightowl)]


class LevelIn(BaseModel):
    receivers: list[str]
    delay: str | float = Field("5m", description="How long this level has to acknowledge: 5m, 1h, or seconds.")


class PolicyIn(BaseModel):
    name: str
    matchers: str = Field("{}", description='Alerts this policy applies to, e.g. {severity="critical"}.')
    levels: list[LevelIn]
    repeat: int = Field(0, description="How many times the whole ladder repeats after the last level.")
    auto_resolve: bool = True


class AcknowledgeIn(BaseModel):
    by: str = Field(min_length=1, max_length=200)


def escalation_json(e: Escalation) -> dict[str, Any]:
    return {
        "id": e.id,
        "policy_id": e.policy_id,
        "fingerprint": e.fingerprint,
        "labels": e.alert.labels,
        "level": e.level + 1,
        "cycle": e.cycle,
        "next_at": e.next_at,
        "status": e.status,
        "started_at": e.started_at,
        "acknowledged_by": e.acknowledged_by,
    }


@router.get("/escalation-policies", summary="Escalation policies", dependencies=[Depends(requires("read"))])
async def list_policies(nightowl: Runtime) -> list[dict[str, Any]]:
    policies = await run_in_threadpool(nightowl.pipeline.escalations.policies)
    return [policy_to_dict(p) for p in policies]


@router.post(
    "/escalation-policies",
    status_code=201,
    summary="Create an escalation policy",
    dependencies=[Depends(requires("write"))],
)
async def create_policy(body: PolicyIn, nightowl: Runtime) -> dict[str, Any]:
    policy = await run_in_threadpool(nightowl.pipeline.escalations.put_policy, None, body.model_dump())
    return policy_to_dict(policy)


@router.get(
    "/escalation-policies/{policy_id}", summary="One escalation policy", dependencies=[Depends(requires("read"))]
)
async def get_policy(policy_id: str, nightowl: Runtime) -> dict[str, Any]:
    return policy_to_dict(await run_in_threadpool(nightowl.pipeline.escalations.get_policy, policy_id))


@router.put(
    "/escalation-policies/{policy_id}",
    summary="Replace an escalation policy",
    dependencies=[Depends(requires("write"))],
)
async def update_policy(policy_id: str, body: PolicyIn, nightowl: Runtime) -> dict[str, Any]:
    policy = await run_in_threadpool(nightowl.pipeline.escalations.put_policy, policy_id, body.model_dump())
    return policy_to_dict(policy)


@router.delete(
    "/escalation-policies/{policy_id}",
    status_code=204,
    summary="Delete an escalation policy",
    dependencies=[Depends(requires("write"))],
)
async def delete_policy(policy_id: str, nightowl: Runtime) -> None:
    await run_in_threadpool(nightowl.pipeline.escalations.delete_policy, policy_id)


@router.get("/escalations", summary="Escalations, newest first", dependencies=[Depends(requires("read"))])
async def list_escalations(
    nightowl: Runtime, status: Literal["open", "acknowledged", "resolved", "exhausted"] | None = None
) -> list[dict[str, Any]]:
    escalations = await run_in_threadpool(nightowl.pipeline.escalations.list_escalations, status)
    return [escalation_json(e) for e in escalations]


@router.post(
    "/escalations/{fingerprint}/acknowledge",
    summary="Acknowledge an alert: its escalation stops",
    dependencies=[Depends(requires("write"))],
)
async def acknowledge(fingerprint: str, body: AcknowledgeIn, nightowl: Runtime) -> dict[str, Any]:
    escalation = await run_in_threadpool(nightowl.pipeline.escalations.acknowledge, fingerprint, body.by)
    return escalation_json(escalation)
