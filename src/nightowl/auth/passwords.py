"""Passwords are hashed with argon2id; verification costs the same whether or not the user exists.

Parameters: OWASP's argon2id configuration of 19 MiB, 2 passes, 1 lane (argon2-cffi's default, RFC 9106's
64 MiB x 4 lanes, made every login and the server's start touch 64 MiB more). Stored hashes record their
own parameters, so hashes made with other ones still verify.
"""

from __future__ import annotations

from functools import cache

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

MIN_LENGTH = 8
MAX_LENGTH = 1024  # argon2 cost grows with input; an unbounded password is a cheap denial of service

_hasher = PasswordHasher(time_cost=2, memory_cost=19 * 1024, parallelism=1)


@cache
def _dummy_hash() -> str:
    """What an unknown user's password is checked against; made on first need, not at import."""
    return _hasher.hash("nightowl-timing-equaliser")


def check_policy(password: str) -> str | None:
    """Why a new password is refused, or None when it is acceptable."""
    if len(password) < MIN_LENGTH:
        return f"password must be at least {MIN_LENGTH} characters long"
    if len(password) > MAX_LENGTH:
        return f"password must be at most {MAX_LENGTH} characters long"
    return None


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(stored_hash: str | None, password: str) -> bool:
    """True when `password` matches; with no stored hash a dummy is verified so timing reveals nothing."""
    if len(password) > MAX_LENGTH:
        return False
    try:
        ok = _hasher.verify(stored_hash or _dummy_hash(), password)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False
    return ok and stored_hash is not None
