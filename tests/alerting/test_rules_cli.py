"""`nightowl rules check` and `nightowl rules test` (promtool's unit test format)."""

from __future__ import annotations

from pathlib import Path

from typer.testing import CliRunner

from nightowl.alerting.unittest import expand_values, parse_series
from nightowl.cli import app
from nightowl.metrics.model import STALE_NAN

RULES = """
groups:
  - name: g
    rules:
      - record: job:up:sum
        expr: sum by (job) (up)
      - alert: InstanceDown
        expr: up == 0
        for: 2m
        labels:
          severity: page
        annotations:
          summary: "{{ $labels.instance }} of {{ $labels.job }} down"
"""

TESTS = """
rule_files: [rules.yml]
evaluation_interval: 1m
tests:
  - interval: 1m
    input_series:
      - series: 'up{job="prometheus", instance="localhost:9090"}'
        values: '1 1 0 0 0 0 0'
      - series: 'up{job="node", instance="a:9100"}'
        values: '1x6'
    alert_rule_test:
      - eval_time: 3m
        alertname: InstanceDown
      - eval_time: 4m
        alertname: InstanceDown
        exp_alerts:
          - exp_labels: {severity: page, instance: "localhost:9090", job: prometheus}
            exp_annotations: {summary: "localhost:9090 of prometheus down"}
    promql_expr_test:
      - expr: job:up:sum
        eval_time: 2m
        exp_samples:
          - labels: 'job:up:sum{job="prometheus"}'
            value: 0
          - labels: 'job:up:sum{job="node"}'
            value: 1
"""


def test_check_counts_rules_and_names_the_broken_rule(tmp_path: Path) -> None:
    good = tmp_path / "rules.yml"
    good.write_text(RULES)
    result = CliRunner().invoke(app, ["rules", "check", str(good)])
    assert result.exit_code == 0, result.output
    assert "SUCCESS: 2 rules found" in result.output

    bad = tmp_path / "bad.yml"
    bad.write_text(RULES.replace("up == 0", "up =="))
    result = CliRunner().invoke(app, ["rules", "check", str(bad)])
    assert result.exit_code == 1
    assert "rule 1" in result.output and "expr" in result.output

    bad.write_text(RULES.replace("{{ $labels.job }}", "{{ with $labels }}x{{ end }}"))
    result = CliRunner().invoke(app, ["rules", "check", str(bad)])
    assert result.exit_code == 1 and "with" in result.output


def test_unit_tests_pass_and_fail_like_promtool(tmp_path: Path) -> None:
    (tmp_path / "rules.yml").write_text(RULES)
    tests = tmp_path / "test.yml"
    tests.write_text(TESTS)
    result = CliRunner().invoke(app, ["rules", "test", str(tests)])
    assert result.exit_code == 0, result.output
    assert "SUCCESS" in result.output

    tests.write_text(TESTS.replace("eval_time: 4m", "eval_time: 3m30s").replace("value: 1\n", "value: 2\n"))
    result = CliRunner().invoke(app, ["rules", "test", str(tests)])
    assert result.exit_code == 1
    assert "alertname: InstanceDown" in result.output and "expr: 'job:up:sum'" in result.output


def test_series_and_value_notation() -> None:
    assert parse_series('up{job="a", instance="b:1"}') == {"__name__": "up", "job": "a", "instance": "b:1"}
    values = expand_values("1 _ 1+2x2 5-1x1 _x1 stale 3x1")
    assert values[:8] == [1.0, None, 1.0, 3.0, 5.0, 5.0, 4.0, None]
    assert values[8] is None and values[9] is STALE_NAN and values[10:] == [3.0, 3.0]


def test_check_config_validates_rule_files(tmp_path: Path) -> None:
    (tmp_path / "rules").mkdir()
    (tmp_path / "rules" / "bad.yml").write_text(RULES.replace("for: 2m", "for: soon"))
    config = tmp_path / "nightowl.yml"
    config.write_text(f"rule_files: ['{tmp_path}/rules/*.yml']\ndata_dir: {tmp_path / 'data'}\n")
    result = CliRunner().invoke(app, ["check-config", "--config", str(config)])
    assert result.exit_code == 2
    assert "rule_files" in result.output and "'soon' is not a duration" in result.output
