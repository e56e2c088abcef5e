"""Users and their roles; passwords stored as argon2 hashes. No user exists until an admin is created."""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass

from sqlalchemy import Connection, Engine, func, insert, select, update
from sqlalchemy.engine import RowMapping
from sqlalchemy.exc import IntegrityError

from nightowl.auth import audit
from nightowl.auth.passwords import check_policy, hash_password, verify_password
from nightowl.auth.principal import ROLE_PERMISSIONS, ROLES, Principal
from nightowl.auth.tables import auth_sessions, users
from nightowl.config import Settings
from nightowl.core.clock import Clock
from nightowl.core.errors import ConfigError, Conflict, InvalidInput, NotFound
from nightowl.core.ids import new_id

log = logging.getLogger(__name__)
USERNAME_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.@-]{0,99}$")


@dataclass(frozen=True)
class User:
    id: str
    username: str
    role: str
    disabled: bool
    created_at: float
    updated_at: float


def user_from_row(row: RowMapping) -> User:
    return User(
        id=row["id"],
        username=row["username"],
        role=row["role"],
        disabled=bool(row["disabled"]),
        created_at=row["created_at"],
        updated_at=row["updated_at"],
    )


def validate_role(role: str) -> str:
    if role not in ROLES:
        raise InvalidInput(f"role {role!r} is not one of {', '.join(ROLES)}", field="role")
    return role


def validate_password(password: str, field: str = "password") -> None:
    problem = check_policy(password)
    if problem:
        raise InvalidInput(problem, field=field)


def create_user(
    engine: Engine, clock: Clock, *, username: str, password: str, role: str, actor: Principal | str
) -> User:
    if not USERNAME_PATTERN.match(username):
        raise InvalidInput(
            f"username {username!r} is invalid: 1 to 100 characters of letters, digits, '_', '.', '@', '-'",
            field="username",
        )
    validate_role(role)
    validate_password(password)
    now = clock.now()
    user_id = new_id()
    password_hash = hash_password(password)  # before the transaction: argon2 is slow and SQLite locks on write
    try:
        with engine.begin() as conn:
            conn.execute(
                insert(users).values(
                    id=user_id,
                    username=username,
                    password_hash=password_hash,
                    role=role,
                    disabled=False,
                    created_at=now,
                    updated_at=now,
                )
            )
            audit.record(
                conn, actor, "user.created", "user", user_id, {"username": username, "role": role}, clock=clock
            )
    except IntegrityError:
        raise Conflict(f"a user named {username!r} already exists", field="username") from None
    return get_user(engine, user_id)


def list_users(engine: Engine) -> list[User]:
    with engine.connect() as conn:
        rows = conn.execute(select(users).order_by(users.c.username)).mappings().all()
    return [user_from_row(r) for r in rows]


def count_users(engine: Engine) -> int:
    with engine.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(users)).scalar_one())


def get_user(engine: Engine, user_id: str) -> User:
    with engine.connect() as conn:
        row = conn.execute(select(users).where(users.c.id == user_id)).mappings().first()
    if row is None:
        raise NotFound(f"no user with id {user_id!r}", field="id")
    return user_from_row(row)


def find_user(engine: Engine, username: str) -> User:
    with engine.connect() as conn:
        row = conn.execute(select(users).where(users.c.username == username)).mappings().first()
    if row is None:
        raise NotFound(f"no user named {username!r}", field="username")
    return user_from_row(row)


def update_user(
    engine: Engine,
    clock: Clock,
    user_id: str,
    *,
    actor: Principal | str,
    role: str | None = None,
    disabled: bool | None = None,
) -> User:
    """Change a user's role or disable them; disabling ends their sessions at once."""
    user = get_user(engine, user_id)
    changes: dict[str, object] = {}
    if role is not None and role != user.role:
        changes["role"] = validate_role(role)
    if disabled is not None and disabled != user.disabled:
        changes["disabled"] = disabled
    if not changes:
        return user
    with engine.begin() as conn:
        demoted = changes.get("role", "admin") != "admin" or changes.get("disabled") is True
        if demoted and _is_last_admin(conn, user):
            raise Conflict(
                "this is the last enabled admin: make another user admin first",
                field="disabled" if "disabled" in changes else "role",
            )
        conn.execute(update(users).where(users.c.id == user_id).values(updated_at=clock.now(), **changes))
        if changes.get("disabled"):
            _end_sessions(conn, user_id, clock.now())
        audit.record(conn, actor, "user.updated", "user", user_id, {"username": user.username, **changes}, clock=clock)
    return get_user(engine, user_id)


def set_password(
    engine: Engine,
    clock: Clock,
    user_id: str,
    password: str,
    *,
    actor: Principal | str,
    keep_session: str = "",
) -> None:
    """Set a new password and end the user's sessions but `keep_session` (a reset must lock out an intruder)."""
    validate_password(password)
    user = get_user(engine, user_id)
    password_hash = hash_password(password)  # before the transaction: argon2 is slow and SQLite locks on write
    with engine.begin() as conn:
        conn.execute(
            update(users).where(users.c.id == user_id).values(password_hash=password_hash, updated_at=clock.now())
        )
        _end_sessions(conn, user_id, clock.now(), keep=keep_session)
        audit.record(conn, actor, "user.password_changed", "user", user_id, {"username": user.username}, clock=clock)


def change_own_password(engine: Engine, clock: Clock, principal: Principal, current: str, new: str) -> None:
    """A user changes their password by proving the current one; their other sessions end."""
    with engine.connect() as conn:
        stored = conn.execute(select(users.c.password_hash).where(users.c.id == principal.id)).scalar_one_or_none()
    if not verify_password(stored, current):
        raise InvalidInput("the current password is wrong", field="current_password")
    set_password(engine, clock, principal.id, new, actor=principal, keep_session=principal.session_id)


def _end_sessions(conn: Connection, user_id: str, now: float, keep: str = "") -> None:
    conn.execute(
        update(auth_sessions)
        .where(
            auth_sessions.c.user_id == user_id,
            auth_sessions.c.revoked_at.is_(None),
            auth_sessions.c.id != keep,
        )
        .values(revoked_at=now)
    )


def _is_last_admin(conn: Connection, user: User) -> bool:
    if user.role != "admin" or user.disabled:
        return False
    enabled_admins = conn.execute(
        select(func.count()).select_from(users).where(users.c.role == "admin", users.c.disabled.is_(False))
    ).scalar_one()
    return int(enabled_admins) <= 1


def check_credentials(engine: Engine, username: str, password: str) -> User | None:
    """The enabled user with this username and password, or None; costs one argon2 verification either way."""
    with engine.connect() as conn:
        row = conn.execute(select(users).where(users.c.username == username)).mappings().first()
    matched = verify_password(row["password_hash"] if row is not None else None, password)
    if row is None or not matched or row["disabled"]:
        return None
    return user_from_row(row)


def principal_for(user: User, session_id: str = "") -> Principal:
    return Principal("user", user.username, ROLE_PERMISSIONS[user.role], id=user.id, session_id=session_id)


def ensure_first_admin(engine: Engine, clock: Clock, settings: Settings) -> None:
    """On a start with no users: create the admin from `admin_password`, or say how to create one."""
    if count_users(engine) > 0:
        return
    if settings.admin_password is None:
        log.warning(
            "no users exist yet: create the first admin with `nightowl users create-admin --username admin` "
            "or start once with NIGHTOWL_ADMIN_PASSWORD set"
        )
        return
    try:
        user = create_user(
            engine,
            clock,
            username=settings.admin_user,
            password=settings.admin_password.get_secret_value(),
            role="admin",
            actor="system:bootstrap",
        )
    except Conflict:
        return  # another instance created it at the same moment
    except InvalidInput as exc:
        raise ConfigError(f"invalid admin_password (from NIGHTOWL_ADMIN_PASSWORD): {exc.detail}") from None
    log.info("created the first admin user from NIGHTOWL_ADMIN_PASSWORD", extra={"username": user.username})
