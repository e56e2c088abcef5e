"""Secrets at rest: channel passwords, tokens and webhook secrets are stored encrypted (Fernet).

The key comes from NIGHTOWL_SECRET_KEY or is generated once into the data dir with mode 0600.
Back that file up: without it, stored secrets cannot be decrypted.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import os
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING

from nightowl.auth.redact import MASK
from nightowl.core.errors import ConfigError

if TYPE_CHECKING:
    from cryptography.fernet import Fernet

KEY_FILE_NAME = "secret.key"
__all__ = ["KEY_FILE_NAME", "MASK", "SecretBox", "generate_key", "mask"]


def generate_key() -> bytes:
    """A new key in Fernet's format: 32 random bytes, url-safe base64."""
    return base64.urlsafe_b64encode(os.urandom(32))


class SecretBox:
    """Encrypts with Fernet; cryptography (~6 MiB resident) loads on the first secret, not at start-up."""

    def __init__(self, key: str | bytes) -> None:
        self._key = key.encode() if isinstance(key, str) else bytes(key)
        try:
            valid = len(base64.urlsafe_b64decode(self._key)) == 32
        except (ValueError, binascii.Error):
            valid = False
        if not valid:
            raise ConfigError(
                "invalid secret_key: expected 32 url-safe base64-encoded bytes "
                '(generate one with: python -c "from cryptography.fernet import Fernet; '
                'print(Fernet.generate_key().decode())")'
            )

    @cached_property
    def _fernet(self) -> Fernet:
        from cryptography.fernet import Fernet

        return Fernet(self._key)

    @classmethod
    def from_data_dir(cls, data_dir: Path, configured_key: str | None = None) -> SecretBox:
        """Use the configured key, else the data dir's key file, creating it (0600) on first start."""
        if configured_key:
            return cls(configured_key)
        path = data_dir / KEY_FILE_NAME
        if not path.exists():
            data_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "wb") as handle:
                handle.write(generate_key())
        return cls(path.read_bytes().strip())

    def derive(self, purpose: str) -> bytes:
        """A key for another use (e.g. signing tokens), derived from this one so there is one secret to back up."""
        return hmac.new(self._key, b"nightowl:" + purpose.encode(), hashlib.sha256).digest()

    def encrypt(self, plaintext: str) -> str:
        return self._fernet.encrypt(plaintext.encode()).decode()

    def decrypt(self, token: str) -> str:
        from cryptography.fernet import InvalidToken

        try:
            return self._fernet.decrypt(token.encode()).decode()
        except InvalidToken:
            raise ConfigError(
                "a stored secret cannot be decrypted: the secret key changed or the value is corrupt"
            ) from None


def mask(secret: str | None) -> str | None:
    """What the API shows instead of a secret: that one is set, never any of it."""
    return None if not secret else MASK
