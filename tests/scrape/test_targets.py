"""Target building from discovered groups: meta labels, defaults, relabeling, URL, identity and offset."""

from __future__ import annotations

from typing import Any

from nightowl.scrape.config import GlobalConfig, ScrapeConfig, parse_duration
from nightowl.scrape.relabel import compile_rules
from nightowl.scrape.targets import DroppedTarget, Target, TargetGroup, populate, static_groups, targets_from_groups

DEFAULTS = GlobalConfig(scrape_interval=15, scrape_timeout=10)


def build(
    config: dict[str, Any], targets: dict[str, str], group: dict[str, str] | None = None
) -> Target | DroppedTarget:
    cfg = ScrapeConfig.model_validate(config)
    return populate(targets, group or {}, cfg, DEFAULTS, compile_rules(cfg.relabel_configs))


def test_static_target_gets_job_instance_and_default_url() -> None:
    target = build({"job_name": "node"}, {"__address__": "host:9100"}, {"env": "prod"})
    assert isinstance(target, Target)
    assert target.labels == (("env", "prod"), ("instance", "host:9100"), ("job", "node"))
    assert target.url == "http://host:9100/metrics"
    assert (target.interval, target.timeout) == (15, 10)


def test_scheme_path_and_params_build_the_url_and_param_labels_override() -> None:
    target = build(
        {
            "job_name": "probe",
            "scheme": "https",
            "metrics_path": "/probe",
            "params": {"module": ["http_2xx", "extra"]},
            "relabel_configs": [
                {"source_labels": ["__address__"], "target_label": "__param_target"},
                {"target_label": "__address__", "replacement": "exporter:9115"},
            ],
        },
        {"__address__": "example.com"},
    )
    assert isinstance(target, Target)
    assert target.url == "https://exporter:9115/probe?module=http_2xx&module=extra&target=example.com"
    assert dict(target.labels)["instance"] == "exporter:9115"


def test_double_underscore_labels_are_dropped_after_relabeling_but_usable_during() -> None:
    target = build(
        {
            "job_name": "j",
            "relabel_configs": [
                {"source_labels": ["__meta_filepath"], "regex": ".*/(.*)\\.json", "target_label": "file"}
            ],
        },
        {"__address__": "a:1"},
        {"__meta_filepath": "/etc/sd/web.json", "__tmp_x": "1"},
    )
    assert isinstance(target, Target)
    assert dict(target.labels) == {"file": "web", "instance": "a:1", "job": "j"}


def test_instance_set_by_relabeling_is_kept() -> None:
    target = build(
        {"job_name": "j", "relabel_configs": [{"target_label": "instance", "replacement": "web-1"}]},
        {"__address__": "10.0.0.1:80"},
    )
    assert isinstance(target, Target)
    assert dict(target.labels)["instance"] == "web-1"


def test_interval_can_be_set_per_target_by_relabeling() -> None:
    target = build(
        {"job_name": "j", "relabel_configs": [{"target_label": "__scrape_interval__", "replacement": "30s"}]},
        {"__address__": "a:1"},
    )
    assert isinstance(target, Target)
    assert target.interval == 30


def test_dropped_targets_say_why() -> None:
    dropped = build(
        {"job_name": "j", "relabel_configs": [{"source_labels": ["env"], "regex": "dev", "action": "drop"}]},
        {"__address__": "a:1"},
        {"env": "dev"},
    )
    assert isinstance(dropped, DroppedTarget)
    assert dropped.reason == "dropped by relabeling"
    assert dropped.discovered["env"] == "dev"
    no_address = build(
        {"job_name": "j", "relabel_configs": [{"action": "labeldrop", "regex": "__address__"}]}, {"__address__": "a:1"}
    )
    assert isinstance(no_address, DroppedTarget)
    assert "no __address__" in no_address.reason


def test_duplicate_targets_are_scraped_once_and_keys_are_stable() -> None:
    config = ScrapeConfig.model_validate({"job_name": "j", "static_configs": [{"targets": ["a:1", "a:1", "b:2"]}]})
    active, dropped = targets_from_groups(static_groups(config), config, DEFAULTS, ())
    assert [t.instance for t in active] == ["a:1", "b:2"]
    again, _ = targets_from_groups([TargetGroup(({"__address__": "a:1"},), {})], config, DEFAULTS, ())
    assert again[0].key == active[0].key
    assert not dropped


def test_offsets_spread_targets_over_the_interval() -> None:
    config = ScrapeConfig.model_validate({"job_name": "j", "scrape_interval": "10s"})
    groups = [TargetGroup(tuple({"__address__": f"h{i}:9100"} for i in range(50)), {})]
    active, _ = targets_from_groups(groups, config, DEFAULTS, ())
    offsets = [t.offset() for t in active]
    assert all(0 <= o < 10 for o in offsets)
    assert len({int(o) for o in offsets}) >= 8
    assert offsets == [t.offset() for t in targets_from_groups(groups, config, DEFAULTS, ())[0]]


def test_durations_read_like_prometheus() -> None:
    assert parse_duration("1m30s") == 90
    assert parse_duration("500ms") == 0.5
    assert parse_duration("2h") == 7200
    assert parse_duration(5) == 5
