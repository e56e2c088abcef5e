"""Property tests for the YAML an operator or an editor hands Nightowl: the settings file, rule files and
alertmanager.yml. Whatever the text, the answer is a one-line ConfigError / InvalidInput or a value,
never another exception (a traceback at start-up, or a 500 from the rules API)."""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from nightowl.alerting.rules import parse_rule_file
from nightowl.config import load_settings
from nightowl.core.errors import ConfigError, InvalidInput, NightowlError
from nightowl.routing.config import load_alertmanager_config

SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=30),
)
TREES = st.recursive(
    SCALARS,
    lambda children: st.one_of(
        st.lists(children, max_size=4), st.dictionaries(st.text(max_size=20), children, max_size=5)
    ),
    max_leaves=25,
)
SETTINGS_KEYS = st.sampled_from(
    [
        "port",
        "query_timeout",
        "query_max_depth",
        "retention",
        "rule_files",
        "alertmanager_config",
        "outbound_allow_cidrs",
        "cors_allowed_origins",
        "ingest_future_tolerance",
        "scrape_configs",
        "demo",
    ]
)
RULE_FILES = st.fixed_dictionaries(
    {"groups": st.lists(st.dictionaries(st.sampled_from(["name", "interval", "rules", "limit"]), TREES), max_size=3)}
)
AM_KEYS = st.sampled_from(["route", "receivers", "inhibit_rules", "global", "time_intervals", "templates"])
PROPERTY = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def dump(value: Any) -> str:
    return yaml.safe_dump(value, allow_unicode=True)


@PROPERTY
@given(st.one_of(TREES, st.dictionaries(SETTINGS_KEYS, TREES, max_size=4)))
def test_any_settings_file_is_a_value_or_one_config_error(content: Any) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "nightowl.yaml"
        path.write_text(dump(content))
        try:
            load_settings(path, data_dir=Path(tmp) / "data")
        except ConfigError as exc:
            assert "\n" not in str(exc).strip()


@PROPERTY
@given(st.one_of(TREES, RULE_FILES))
def test_any_rule_file_is_groups_or_invalid_input(content: Any) -> None:
    try:
        parse_rule_file(dump(content), "fuzz.yml")
    except InvalidInput:
        pass


@PROPERTY
@given(st.one_of(TREES, st.dictionaries(AM_KEYS, TREES, max_size=4)))
def test_any_alertmanager_yml_is_a_config_or_one_config_error(content: Any) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "alertmanager.yml"
        path.write_text(dump(content))
        try:
            load_alertmanager_config(path)
        except (ConfigError, NightowlError) as exc:
            assert "\n" not in str(exc).strip()


@PROPERTY
@given(st.text(max_size=400))
def test_any_text_as_yaml_is_refused_cleanly(text: str) -> None:
    """Not even YAML (tabs, unclosed quotes, anchors): each reader says so in one line."""
    with tempfile.TemporaryDirectory() as tmp:
        for name, read in (
            ("nightowl.yaml", lambda p: load_settings(p, data_dir=Path(tmp) / "data")),
            ("alertmanager.yml", load_alertmanager_config),
        ):
            path = Path(tmp) / name
            path.write_text(text)
            try:
                read(path)
            except (ConfigError, NightowlError):
                pass
    try:
        parse_rule_file(text, "fuzz.yml")
    except InvalidInput:
        pass
