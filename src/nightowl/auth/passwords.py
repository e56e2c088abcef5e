"""Passwords are hashed with argon2id; verification costs the same whether or not the user exists."""

from __future__ import annotations

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

MIN_LENGTH = 8
MAX_LENGTH = 1024  # argon2 cost grows with input; an unbounded password is a cheap denial of service

_hasher = PasswordHasher()
_DUMMY_HASH = _hasher.hash("nightowl-timing-equaliser")


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
        ok = _hasher.verify(stored_hash or _DUMMY_HASH, password)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False
    return ok and stored_hash is not None
