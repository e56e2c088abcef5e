"""API keys: random, scoped, expiring, rate-limited; only a SHA-256 hash and a short prefix are stored.

The key itself is shown once, at creation (or rotation). A key has 256 bits of entropy, so a fast hash
is enough: nobody can brute-force a preimage, and a fast lookup keeps per-request authentication cheap.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass

from sqlalchemy import Engine, insert, select, update
from sqlalchemy.engine import RowMapping

from nightowl.auth import audit
from nightowl.auth.principal import Principal, parse_scopes, scope_permissions
from nightowl.auth.tables import api_keys
from nightowl.core.clock import Clock
from nightowl.core.errors import InvalidInput, NotFound
from nightowl.core.ids import new_id

KEY_MARKER = "nok_"
PREFIX_LENGTH = len(KEY_MARKER) + 8
LAST_USED_RESOLUTION = 60.0  # seconds; bounds the writes that keep `last_used_at` current


@dataclass(frozen=True)
class ApiKey:
    """An API key as stored: everything but the key."""

    id: str
    name: str
    prefix: str
    scopes: tuple[str, ...]
    rate_limit: int | None
    created_at: float
    created_by: str
    expires_at: float | None
    revoked_at: float | None
    last_used_at: float | None

    def state(self, now: float) -> str:
        if self.revoked_at is not None:
            return "revoked"
        if self.expires_at is not None and self.expires_at <= now:
            return "expired"
        return "active"


def looks_like_key(token: str) -> bool:
    return token.startswith(KEY_MARKER)


def hash_key(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def _new_secret() -> str:
    return KEY_MARKER + secrets.token_urlsafe(32)


def _from_row(row: RowMapping) -> ApiKey:
    return ApiKey(
        id=row["id"],
        name=row["name"],
        prefix=row["prefix"],
        scopes=tuple(s for s in row["scopes"].split(",") if s),
        rate_limit=row["rate_limit"],
        created_at=row["created_at"],
        created_by=row["created_by"],
        expires_at=row["expires_at"],
        revoked_at=row["revoked_at"],
        last_used_at=row["last_used_at"],
    )


def _validate(name: str, rate_limit: int | None, expires_at: float | None, now: float) -> None:
    if not name.strip() or len(name) > 200:
        raise InvalidInput("name must be 1 to 200 characters", field="name")
    if rate_limit is not None and not 1 <= rate_limit <= 100_000_000:
        raise InvalidInput(
            f"rate_limit={rate_limit} is out of range: 1 to 100000000 requests per hour", field="rate_limit"
        )
    if expires_at is not None and expires_at <= now:
        raise InvalidInput("expires_at must be in the future", field="expires_at")


def create_key(
    engine: Engine,
    clock: Clock,
    *,
    name: str,
    scopes: list[str],
    actor: Principal | str,
    expires_at: float | None = None,
    rate_limit: int | None = None,
) -> tuple[ApiKey, str]:
    """Create a key; returns it with the plaintext key, which is never available again."""
    now = clock.now()
    try:
        canonical = parse_scopes(scopes)
    except ValueError as exc:
        raise InvalidInput(str(exc), field="scopes") from None
    _validate(name, rate_limit, expires_at, now)
    secret = _new_secret()
    key_id = new_id()
    values = {
        "id": key_id,
        "name": name.strip(),
        "prefix": secret[:PREFIX_LENGTH],
        "key_hash": hash_key(secret),
        "scopes": ",".join(canonical),
        "rate_limit": rate_limit,
        "created_at": now,
        "created_by": actor.actor if isinstance(actor, Principal) else actor,
        "expires_at": expires_at,
        "revoked_at": None,
        "last_used_at": None,
    }
    with engine.begin() as conn:
        conn.execute(insert(api_keys).values(**values))
        audit.record(
            conn,
            actor,
            "key.created",
            "api_key",
            key_id,
            {"name": values["name"], "prefix": values["prefix"], "scopes": canonical, "expires_at": expires_at},
            clock=clock,
        )
    return get_key(engine, key_id), secret


def list_keys(engine: Engine) -> list[ApiKey]:
    with engine.connect() as conn:
        rows = conn.execute(select(api_keys).order_by(api_keys.c.created_at, api_keys.c.id)).mappings().all()
    return [_from_row(r) for r in rows]


def get_key(engine: Engine, key_id: str) -> ApiKey:
    with engine.connect() as conn:
        row = conn.execute(select(api_keys).where(api_keys.c.id == key_id)).mappings().first()
    if row is None:
        raise NotFound(f"no API key with id {key_id!r}", field="id")
    return _from_row(row)


def revoke_key(engine: Engine, clock: Clock, key_id: str, *, actor: Principal | str) -> ApiKey:
    """Revoke a key at once; revoking twice keeps the first revocation time."""
    key = get_key(engine, key_id)
    if key.revoked_at is None:
        with engine.begin() as conn:
            conn.execute(update(api_keys).where(api_keys.c.id == key_id).values(revoked_at=clock.now()))
            audit.record(conn, actor, "key.revoked", "api_key", key_id, {"name": key.name}, clock=clock)
    return get_key(engine, key_id)


def rotate_key(engine: Engine, clock: Clock, key_id: str, *, actor: Principal | str) -> tuple[ApiKey, str]:
    """Replace a key's secret, keeping its id, name, scopes and limits; the old secret stops working now."""
    key = get_key(engine, key_id)
    if key.state(clock.now()) != "active":
        raise InvalidInput(f"API key {key_id} is {key.state(clock.now())} and cannot be rotated", field="id")
    secret = _new_secret()
    with engine.begin() as conn:
        conn.execute(
            update(api_keys)
            .where(api_keys.c.id == key_id)
            .values(key_hash=hash_key(secret), prefix=secret[:PREFIX_LENGTH])
        )
        audit.record(conn, actor, "key.rotated", "api_key", key_id, {"prefix": secret[:PREFIX_LENGTH]}, clock=clock)
    return get_key(engine, key_id), secret


def authenticate_key(engine: Engine, clock: Clock, presented: str) -> Principal | None:
    """The key's principal, or None for an unknown, revoked or expired key."""
    if not looks_like_key(presented) or len(presented) > 200:
        return None
    digest = hash_key(presented)
    with engine.connect() as conn:
        row = conn.execute(select(api_keys).where(api_keys.c.key_hash == digest)).mappings().first()
    if row is None or not hmac.compare_digest(row["key_hash"], digest):
        return None
    key = _from_row(row)
    now = clock.now()
    if key.state(now) != "active":
        return None
    if key.last_used_at is None or now - key.last_used_at >= LAST_USED_RESOLUTION:
        with engine.begin() as conn:
            conn.execute(update(api_keys).where(api_keys.c.id == key.id).values(last_used_at=now))
    return Principal("key", key.name, scope_permissions(key.scopes), id=key.id, rate_limit=key.rate_limit)
