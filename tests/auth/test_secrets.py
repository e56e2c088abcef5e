from __future__ import annotations

import stat
from pathlib import Path

import pytest

from nightowl.auth.secrets import SecretBox, mask
from nightowl.core.errors import ConfigError


def test_generated_key_file_is_private_and_reused(tmp_path: Path) -> None:
    box = SecretBox.from_data_dir(tmp_path)
    token = box.encrypt("hunter2")
    assert "hunter2" not in token
    key_file = tmp_path / "secret.key"
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    assert SecretBox.from_data_dir(tmp_path).decrypt(token) == "hunter2"


def test_a_different_key_cannot_read_secrets(tmp_path: Path) -> None:
    token = SecretBox.from_data_dir(tmp_path / "a").encrypt("s3cret")
    with pytest.raises(ConfigError, match="cannot be decrypted"):
        SecretBox.from_data_dir(tmp_path / "b").decrypt(token)


def test_invalid_configured_key_is_a_config_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="invalid secret_key"):
        SecretBox.from_data_dir(tmp_path, "not-a-key")


def test_mask_never_shows_any_of_the_secret() -> None:
    assert mask("abcdef") == "<secret>" and mask(None) is None and mask("") is None
