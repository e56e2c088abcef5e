"""`scrape_configs:` and `global:` read from a prometheus.yml-style config, with errors that name the key."""

from __future__ import annotations

from pathlib import Path

import pytest

from nightowl.config import load_settings
from nightowl.core.errors import ConfigError

PROMETHEUS_YML = """
global:
  scrape_interval: 15s
  scrape_timeout: 5s
scrape_configs:
  - job_name: node
    static_configs:
      - targets: ['localhost:9100']
        labels: {env: prod}
    relabel_configs:
      - source_labels: [__address__]
        regex: '(.*):9100'
        target_label: host
    metric_relabel_configs:
      - source_labels: [__name__]
        regex: 'go_.*'
        action: drop
  - job_name: app
    scrape_interval: 1m
    scheme: https
    basic_auth: {username: u, password: p}
    tls_config: {insecure_skip_verify: true}
    file_sd_configs:
      - files: ['/etc/sd/*.json']
        refresh_interval: 30s
    http_sd_configs:
      - url: http://sd.example/targets
    honor_labels: true
    sample_limit: 1000
"""


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "nightowl.yaml"
    path.write_text(text)
    return path


def test_a_pasted_prometheus_yml_scrape_section_loads(tmp_path: Path) -> None:
    settings = load_settings(write(tmp_path, PROMETHEUS_YML))
    node, app = settings.scrape_configs
    assert settings.global_config.scrape_interval == 15
    assert (node.interval(settings.global_config), node.timeout(settings.global_config)) == (15, 5)
    assert app.interval(settings.global_config) == 60
    assert app.file_sd_configs[0].refresh_interval == 30
    assert node.metric_relabel_configs[0].action == "drop"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            "scrape_configs:\n  - job_name: a\n    scrape_intervl: 5s\n",
            "unknown key 'scrape_intervl' in scrape config 'a'",
        ),
        ("scrape_configs:\n  - job_name: a\n  - job_name: a\n", "job_name 'a' is used by two scrape configs"),
        (
            "scrape_configs:\n  - job_name: a\n    scrape_interval: 5s\n    scrape_timeout: 10s\n",
            "scrape_timeout 10s is greater than scrape_interval 5s",
        ),
        ("scrape_configs:\n  - job_name: a\n    scrape_interval: soon\n", "invalid duration 'soon'"),
        ("global:\n  scrape_intervl: 1m\n", "unknown key 'scrape_intervl' in global"),
        (
            "scrape_configs:\n  - job_name: a\n    static_configs:\n      - targets: [x]\n        lables: {}\n",
            "unknown key 'lables' in static_configs",
        ),
    ],
)
def test_config_errors_name_the_key(tmp_path: Path, text: str, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        load_settings(write(tmp_path, text))
