"""Relabeling behaves as Prometheus's relabel_config: each action, the defaults, the templates."""

from __future__ import annotations

from typing import Any

import pytest

from nightowl.scrape.config import RelabelConfig
from nightowl.scrape.relabel import compile_rules, hashmod, relabel


def run(labels: dict[str, str], *rules: dict[str, Any]) -> dict[str, str] | None:
    return relabel(labels, compile_rules([RelabelConfig.model_validate(r) for r in rules]))


CASES: list[tuple[str, dict[str, str], list[dict[str, Any]], dict[str, str] | None]] = [
    (
        "replace with defaults copies the joined sources",
        {"a": "x", "b": "y"},
        [{"source_labels": ["a", "b"], "target_label": "c"}],
        {"a": "x", "b": "y", "c": "x;y"},
    ),
    (
        "replace with a capture group and custom separator",
        {"__address__": "10.0.0.1:9100"},
        [{"source_labels": ["__address__"], "regex": "(.*):\\d+", "target_label": "host"}],
        {"__address__": "10.0.0.1:9100", "host": "10.0.0.1"},
    ),
    (
        "regex is anchored: a partial match does nothing",
        {"a": "foobar"},
        [{"source_labels": ["a"], "regex": "foo", "target_label": "b", "replacement": "hit"}],
        {"a": "foobar"},
    ),
    (
        "replace to an empty value deletes the target label",
        {"a": "", "b": "old"},
        [{"source_labels": ["a"], "target_label": "b"}],
        {"a": ""},
    ),
    (
        "a missing source label reads as empty",
        {"b": "x"},
        [{"source_labels": ["missing"], "regex": "", "target_label": "c", "replacement": "empty"}],
        {"b": "x", "c": "empty"},
    ),
    (
        "target_label may use a group; ${1}x and named groups expand",
        {"k": "env=prod"},
        [{"source_labels": ["k"], "regex": "(?P<n>\\w+)=(\\w+)", "target_label": "$n", "replacement": "${2}x"}],
        {"k": "env=prod", "env": "prodx"},
    ),
    (
        "$1x names a group that does not exist, so expands to empty (Go semantics)",
        {"a": "v"},
        [{"source_labels": ["a"], "target_label": "b", "replacement": "$1x"}],
        {"a": "v"},
    ),
    (
        "keep drops what does not match",
        {"job": "a"},
        [{"source_labels": ["job"], "regex": "b", "action": "keep"}],
        None,
    ),
    (
        "keep keeps what matches",
        {"job": "b"},
        [{"source_labels": ["job"], "regex": "b|c", "action": "keep"}],
        {"job": "b"},
    ),
    ("drop drops what matches", {"job": "a"}, [{"source_labels": ["job"], "regex": "a", "action": "drop"}], None),
    (
        "labelmap copies matching names",
        {"__meta_x_team": "core", "__meta_x_env": "prod", "other": "1"},
        [{"regex": "__meta_x_(.+)", "action": "labelmap"}],
        {"__meta_x_team": "core", "__meta_x_env": "prod", "other": "1", "team": "core", "env": "prod"},
    ),
    (
        "labeldrop removes matching names",
        {"a": "1", "tmp_b": "2"},
        [{"regex": "tmp_.*", "action": "labeldrop"}],
        {"a": "1"},
    ),
    (
        "labelkeep keeps only matching names",
        {"a": "1", "b": "2", "__name__": "m"},
        [{"regex": "__name__|a", "action": "labelkeep"}],
        {"a": "1", "__name__": "m"},
    ),
    (
        "lowercase and uppercase",
        {"a": "MiXed"},
        [
            {"source_labels": ["a"], "target_label": "lo", "action": "lowercase"},
            {"source_labels": ["a"], "target_label": "up", "action": "uppercase"},
        ],
        {"a": "MiXed", "lo": "mixed", "up": "MIXED"},
    ),
    (
        "keepequal keeps when the source equals the target label",
        {"a": "1", "b": "1"},
        [{"source_labels": ["a"], "target_label": "b", "action": "keepequal"}],
        {"a": "1", "b": "1"},
    ),
    (
        "keepequal drops when they differ",
        {"a": "1", "b": "2"},
        [{"source_labels": ["a"], "target_label": "b", "action": "keepequal"}],
        None,
    ),
    (
        "dropequal drops when they are equal",
        {"a": "1", "b": "1"},
        [{"source_labels": ["a"], "target_label": "b", "action": "dropequal"}],
        None,
    ),
    (
        "an invalid expanded target label deletes the configured target_label, as Prometheus does",
        {"a": "1-2", "$1": "kept?"},
        [{"source_labels": ["a"], "target_label": "$1", "replacement": "x"}],
        {"a": "1-2"},
    ),
    (
        "rules apply in order",
        {"a": "x"},
        [
            {"source_labels": ["a"], "target_label": "b", "replacement": "y"},
            {"source_labels": ["b"], "regex": "y", "action": "drop"},
        ],
        None,
    ),
]


@pytest.mark.parametrize(("labels", "rules", "expected"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_relabel_action(labels: dict[str, str], rules: list[dict[str, Any]], expected: dict[str, str] | None) -> None:
    assert run(labels, *rules) == expected


def test_hashmod_shards_deterministically_and_within_modulus() -> None:
    out = run(
        {"__address__": "10.0.0.1:9100"},
        {"source_labels": ["__address__"], "modulus": 8, "target_label": "__tmp_hash", "action": "hashmod"},
    )
    assert out is not None
    assert out["__tmp_hash"] == str(hashmod("10.0.0.1:9100", 8))
    assert 0 <= int(out["__tmp_hash"]) < 8
    shards = {hashmod(f"10.0.0.{i}:9100", 4) for i in range(64)}
    assert shards == {0, 1, 2, 3}


def test_relabel_does_not_mutate_its_input() -> None:
    labels = {"a": "1"}
    run(labels, {"source_labels": ["a"], "target_label": "b"})
    assert labels == {"a": "1"}


@pytest.mark.parametrize(
    ("rule", "message"),
    [
        ({"action": "hashmod", "target_label": "x"}, "positive modulus"),
        ({"action": "replace", "source_labels": ["a"]}, "needs target_label"),
        ({"action": "labeldrop", "regex": "a", "source_labels": ["a"]}, "takes only regex"),
        ({"regex": "(unclosed"}, "invalid regex"),
        ({"action": "explode", "target_label": "x"}, "action"),
        ({"source_labels": ["a"], "target_label": "b", "sepparator": ","}, "unknown key 'sepparator'"),
    ],
)
def test_invalid_relabel_config_says_why(rule: dict[str, Any], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        RelabelConfig.model_validate(rule)
