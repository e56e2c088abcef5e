"""Login sessions: a short-lived JWT access token plus a refresh token that rotates on every use.

The JWT is signed with HS256 by a key derived from the instance's secret key, so every instance that
shares the secret key accepts it. Expiry is checked against the injected clock. Each access token names
its session, which is looked up on every request: logout, a password reset or disabling the user ends
the session at once, not when the token expires.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Engine, delete, insert, or_, select, update

from nightowl.auth import audit
from nightowl.auth.principal import Principal
from nightowl.auth.tables import auth_sessions, users
from nightowl.auth.users import User, principal_for, user_from_row
from nightowl.core.clock import Clock
from nightowl.core.errors import Unauthorized
from nightowl.core.ids import new_id

ALGORITHM = "HS256"
ISSUER = "nightowl"


@dataclass(frozen=True)
class TokenPair:
    access_token: str
    refresh_token: str
    expires_in: int
    session_id: str


@dataclass(frozen=True)
class TokenSigner:
    """Signs and checks access tokens; `key` comes from `SecretBox.derive("jwt")`."""

    key: bytes
    access_ttl: int
    refresh_ttl: int

    def encode(self, user: User, session_id: str, now: float) -> str:
        claims = {
            "iss": ISSUER,
            "sub": user.id,
            "sid": session_id,
            "name": user.username,
            "iat": int(now),
            "exp": int(now) + self.access_ttl,
        }
        import jwt  # on first use: PyJWT pulls in cryptography's x509 and asymmetric keys (~8 MiB)

        return jwt.encode(claims, self.key, algorithm=ALGORITHM)

    def decode(self, token: str, now: float) -> dict[str, Any] | None:
        """The claims of a genuine, unexpired token, or None. Expiry uses `now`, the injected clock's time."""
        import jwt

        try:
            claims: dict[str, Any] = jwt.decode(
                token,
                self.key,
                algorithms=[ALGORITHM],
                issuer=ISSUER,
                options={"verify_exp": False, "verify_iat": False, "require": ["exp", "sub", "sid", "iss"]},
            )
        except jwt.PyJWTError:
            return None
        exp = claims.get("exp")
        if not isinstance(exp, int | float) or now >= exp:
            return None
        return claims


def _hash(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def _issue(signer: TokenSigner, user: User, session_id: str, secret: str, now: float) -> TokenPair:
    return TokenPair(
        access_token=signer.encode(user, session_id, now),
        refresh_token=f"{session_id}.{secret}",
        expires_in=signer.access_ttl,
        session_id=session_id,
    )


def start_session(engine: Engine, clock: Clock, signer: TokenSigner, user: User) -> TokenPair:
    now = clock.now()
    session_id = new_id()
    secret = secrets.token_urlsafe(32)
    with engine.begin() as conn:
        conn.execute(
            insert(auth_sessions).values(
                id=session_id,
                user_id=user.id,
                refresh_hash=_hash(secret),
                created_at=now,
                refreshed_at=now,
                expires_at=now + signer.refresh_ttl,
                revoked_at=None,
            )
        )
    return _issue(signer, user, session_id, secret, now)


def refresh_session(engine: Engine, clock: Clock, signer: TokenSigner, refresh_token: str) -> TokenPair:
    """Trade a refresh token for a new pair. Presenting a superseded token ends the session: it was stolen.

    The rotation is a compare-and-set on the stored hash: of two requests racing with the same token, one
    rotates it and the other finds it already superseded, so it is reuse and the session ends for both.
    """
    session_id, _, secret = refresh_token.partition(".")
    now = clock.now()
    invalid = Unauthorized("the refresh token is invalid, expired or revoked; log in again")
    if not session_id or not secret or len(refresh_token) > 200:
        raise invalid
    with engine.connect() as conn:
        row = (
            conn.execute(
                select(
                    users,
                    auth_sessions.c.refresh_hash,
                    auth_sessions.c.revoked_at,
                    auth_sessions.c.expires_at.label("session_expires_at"),
                )
                .join(auth_sessions, auth_sessions.c.user_id == users.c.id)
                .where(auth_sessions.c.id == session_id)
            )
            .mappings()
            .first()
        )
    if row is None or row["revoked_at"] is not None or row["session_expires_at"] <= now or row["disabled"]:
        raise invalid
    presented = _hash(secret)
    new_secret = secrets.token_urlsafe(32)
    with engine.begin() as conn:
        rotated = False
        if hmac.compare_digest(row["refresh_hash"], presented):
            # The first statement of its transaction takes the write lock (SQLite) or the row lock
            # (PostgreSQL) and sees the latest row: only one request can match the old hash.
            result = conn.execute(
                update(auth_sessions)
                .where(
                    auth_sessions.c.id == session_id,
                    auth_sessions.c.refresh_hash == presented,
                    auth_sessions.c.revoked_at.is_(None),
                )
                .values(refresh_hash=_hash(new_secret), refreshed_at=now, expires_at=now + signer.refresh_ttl)
            )
            rotated = result.rowcount == 1
        if not rotated:
            # Committed before answering 401: rolling the revocation back would let the thief go on.
            conn.execute(
                update(auth_sessions)
                .where(auth_sessions.c.id == session_id, auth_sessions.c.revoked_at.is_(None))
                .values(revoked_at=now)
            )
            audit.record(conn, f"user:{row['username']}", "session.refresh_reused", "session", session_id, clock=clock)
    if not rotated:
        raise invalid
    user = user_from_row(row)
    return _issue(signer, user, session_id, new_secret, now)


def revoke_session(engine: Engine, clock: Clock, session_id: str) -> None:
    with engine.begin() as conn:
        conn.execute(
            update(auth_sessions)
            .where(auth_sessions.c.id == session_id, auth_sessions.c.revoked_at.is_(None))
            .values(revoked_at=clock.now())
        )


def authenticate_access_token(engine: Engine, clock: Clock, signer: TokenSigner, token: str) -> Principal | None:
    """The user behind a valid access token whose session is live and whose account is enabled, or None."""
    now = clock.now()
    claims = signer.decode(token, now)
    if claims is None:
        return None
    with engine.connect() as conn:
        row = (
            conn.execute(
                select(users, auth_sessions.c.revoked_at, auth_sessions.c.expires_at.label("session_expires_at"))
                .join(auth_sessions, auth_sessions.c.user_id == users.c.id)
                .where(auth_sessions.c.id == str(claims["sid"]), users.c.id == str(claims["sub"]))
            )
            .mappings()
            .first()
        )
    if row is None or row["revoked_at"] is not None or row["session_expires_at"] <= now or row["disabled"]:
        return None
    return principal_for(user_from_row(row), session_id=str(claims["sid"]))


def prune_sessions(engine: Engine, clock: Clock, keep_seconds: float = 86400.0) -> int:
    """Delete sessions that ended (expired or revoked) more than `keep_seconds` ago; returns how many."""
    cutoff = clock.now() - keep_seconds
    with engine.begin() as conn:
        result = conn.execute(
            delete(auth_sessions).where(or_(auth_sessions.c.expires_at < cutoff, auth_sessions.c.revoked_at < cutoff))
        )
    return int(result.rowcount or 0)
