from __future__ import annotations

from pathlib import Path

import pytest

from nightowl.config import SAMPLE_CONFIG, load_settings
from nightowl.core.errors import ConfigError


def test_flags_beat_environment_which_beats_the_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    config = tmp_path / "n.yaml"
    config.write_text("port: 4000\nlog_level: debug\nhost: 0.0.0.0\n")
    monkeypatch.setenv("NIGHTOWL_PORT", "5000")
    monkeypatch.setenv("NIGHTOWL_LOG_LEVEL", "warning")
    settings = load_settings(config, port=6000)
    assert settings.port == 6000
    assert settings.log_level == "warning"
    assert settings.host == "0.0.0.0"


def test_sample_config_is_valid(tmp_path: Path) -> None:
    config = tmp_path / "n.yaml"
    config.write_text(SAMPLE_CONFIG)
    assert load_settings(config).port == 3017


def test_invalid_env_value_names_key_value_and_rule(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NIGHTOWL_PORT", "70000")
    with pytest.raises(ConfigError) as caught:
        load_settings()
    message = str(caught.value)
    assert "port='70000'" in message and "NIGHTOWL_PORT" in message and "65535" in message
    assert "\n" not in message


def test_invalid_choice_lists_what_is_allowed(tmp_path: Path) -> None:
    config = tmp_path / "n.yaml"
    config.write_text("log_format: xml\n")
    with pytest.raises(ConfigError, match=r"log_format='xml' \(in .*n.yaml\).*'text' or 'json'"):
        load_settings(config)


def test_unknown_key_is_an_error(tmp_path: Path) -> None:
    config = tmp_path / "n.yaml"
    config.write_text("prot: 3017\n")
    with pytest.raises(ConfigError, match="unknown configuration key 'prot'"):
        load_settings(config)


@pytest.mark.parametrize("text", ["port: [\n", "- a\n- b\n"])
def test_malformed_yaml_is_one_line(tmp_path: Path, text: str) -> None:
    config = tmp_path / "n.yaml"
    config.write_text(text)
    with pytest.raises(ConfigError) as caught:
        load_settings(config)
    assert str(caught.value).startswith(f"config file {config}")
    assert "\n" not in str(caught.value)
