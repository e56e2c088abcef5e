"""/api/v1/users: user accounts and their roles (admin)."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Response
from fastapi.concurrency import run_in_threadpool
from pydantic import BaseModel, Field

from nightowl.api.deps import get_nightowl, requires
from nightowl.auth import users
from nightowl.auth.principal import Principal
from nightowl.runtime import Nightowl

router = APIRouter(prefix="/api/v1/users", tags=["users"])
NightowlDep = Annotated[Nightowl, Depends(get_nightowl)]
Admin = Annotated[Principal, Depends(requires("admin"))]
RoleName = Literal["admin", "editor", "viewer"]


class UserCreate(BaseModel):
    username: str = Field(min_length=1, max_length=100)
    password: str = Field(min_length=1, max_length=1024)
    role: RoleName


class UserUpdate(BaseModel):
    role: RoleName | None = None
    disabled: bool | None = None


class PasswordReset(BaseModel):
    password: str = Field(min_length=1, max_length=1024)


def user_view(user: users.User) -> dict[str, Any]:
    return {
        "id": user.id,
        "username": user.username,
        "role": user.role,
        "disabled": user.disabled,
        "created_at": user.created_at,
        "updated_at": user.updated_at,
    }


@router.post("", status_code=201, summary="Create a user")
async def create_user(body: UserCreate, nightowl: NightowlDep, principal: Admin) -> dict[str, Any]:
    user = await run_in_threadpool(
        lambda: users.create_user(
            nightowl.engine,
            nightowl.clock,
            username=body.username,
            password=body.password,
            role=body.role,
            actor=principal,
        )
    )
    return user_view(user)


@router.get("", summary="List users")
async def list_users(nightowl: NightowlDep, _principal: Admin) -> dict[str, Any]:
    return {"items": [user_view(u) for u in await run_in_threadpool(users.list_users, nightowl.engine)]}


@router.get("/{user_id}", summary="One user")
async def get_user(user_id: str, nightowl: NightowlDep, _principal: Admin) -> dict[str, Any]:
    return user_view(await run_in_threadpool(users.get_user, nightowl.engine, user_id))


@router.patch("/{user_id}", summary="Change a user's role, or disable / enable them")
async def update_user(user_id: str, body: UserUpdate, nightowl: NightowlDep, principal: Admin) -> dict[str, Any]:
    user = await run_in_threadpool(
        lambda: users.update_user(
            nightowl.engine, nightowl.clock, user_id, actor=principal, role=body.role, disabled=body.disabled
        )
    )
    return user_view(user)


@router.post("/{user_id}/password", status_code=204, summary="Reset a user's password; ends their sessions")
async def reset_password(user_id: str, body: PasswordReset, nightowl: NightowlDep, principal: Admin) -> Response:
    await run_in_threadpool(
        lambda: users.set_password(nightowl.engine, nightowl.clock, user_id, body.password, actor=principal)
    )
    return Response(status_code=204)
