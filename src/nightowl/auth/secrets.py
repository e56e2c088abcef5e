"""Secrets at rest: channel passwords, tokens and webhook secrets are stored encrypted (Fernet).

The key comes from NIGHTOWL_SECRET_KEY or is generated once into the data dir with mode 0600.
Back that file up: without it, stored secrets cannot be decrypted.
"""

from __future__ import annotations

import hashlib
import hmac
import os
from pathlib import Path

from cryptography.fernet import Fernet, InvalidToken

from nightowl.core.errors import ConfigError

KEY_FILE_NAME = "secret.key"
MASK = "********"


class SecretBox:
    def __init__(self, key: str | bytes) -> None:
        try:
            self._fernet = Fernet(key)
            self._key = key.encode() if isinstance(key, str) else bytes(key)
        except (ValueError, TypeError):
            raise ConfigError(
                "invalid secret_key: expected 32 url-safe base64-encoded bytes "
                '(generate one with: python -c "from cryptography.fernet import Fernet; '
                'print(Fernet.generate_key().decode())")'
            ) from None

    @classmethod
    def from_data_dir(cls, data_dir: Path, configured_key: str | None = None) -> SecretBox:
        """Use the configured key, else the data dir's key file, creating it (0600) on first start."""
        if configured_key:
            return cls(configured_key)
        path = data_dir / KEY_FILE_NAME
        if not path.exists():
            data_dir.mkdir(parents=True, exist_ok=True)
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "wb") as handle:
                handle.write(Fernet.generate_key())
        return cls(path.read_bytes().strip())

    def derive(self, purpose: str) -> bytes:
        """A key for another use (e.g. signing tokens), derived from this one so there is one secret to back up."""
        return hmac.new(self._key, b"nightowl:" + purpose.encode(), hashlib.sha256).digest()

    def encrypt(self, plaintext: str) -> str:
        return self._fernet.encrypt(plaintext.encode()).decode()

    def decrypt(self, token: str) -> str:
        try:
            return self._fernet.decrypt(token.encode()).decode()
        except InvalidToken:
            raise ConfigError(
                "a stored secret cannot be decrypted: the secret key changed or the value is corrupt"
            ) from None


def mask(secret: str | None) -> str | None:
    """What the API shows instead of a secret: that one is set, never any of it."""
    return None if not secret else MASK
