"""alertmanager.yml is taken as is; what Nightowl does not support is named, never silently ignored."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import pytest

from nightowl.app import create_app
from nightowl.core.errors import ConfigError
from nightowl.routing.config import load_alertmanager_config, parse_alertmanager_config

AM_YAML = """
global:
  resolve_timeout: 2m
  smtp_smarthost: 'mail.example.com:587'
  smtp_from: 'alertmanager@example.com'
  smtp_auth_username: 'alertmanager'
  smtp_auth_password: 'password'
  slack_api_url: 'https://hooks.slack.com/services/T/B/X'
  opsgenie_api_key: 'xyz'
templates: ['/etc/alertmanager/template/*.tmpl']
route:
  receiver: team-X-mails
  group_by: [alertname, cluster]
  routes:
  - matchers: [severity="critical"]
    receiver: pager
    mute_time_intervals: [offhours]
inhibit_rules:
- source_matchers: [severity="critical"]
  target_matchers: [severity="warning"]
  equal: [alertname]
time_intervals:
- name: offhours
  time_intervals:
  - weekdays: ['saturday', 'sunday']
receivers:
- name: team-X-mails
  email_configs:
  - to: 'team-X+alerts@example.org'
  slack_configs:
  - channel: '#alerts'
    title: '{{ .CommonLabels.alertname }}'
- name: pager
  pagerduty_configs:
  - routing_key: 'abc'
  webhook_configs:
  - url: 'http://hooks.example/am'
    send_resolved: false
  opsgenie_configs:
  - api_key: 'x'
"""


def test_receivers_become_channels_with_global_defaults() -> None:
    config = parse_alertmanager_config(AM_YAML)
    assert config.resolve_timeout == 120
    specs = {spec.id: spec for spec in config.channels}
    email = specs["am-team-X-mails-email-0"]
    assert email.config == {
        "to": "team-X+alerts@example.org",
        "from": "alertmanager@example.com",
        "host": "mail.example.com",
        "port": 587,
        "username": "alertmanager",
        "password": "password",
        "tls": "starttls",
    }
    assert not email.send_resolved  # Alertmanager's default for e-mail
    assert specs["am-team-X-mails-slack-0"].config["webhook_url"] == "https://hooks.slack.com/services/T/B/X"
    assert specs["am-pager-pagerduty-0"].send_resolved
    assert not specs["am-pager-webhook-0"].send_resolved
    assert config.route.routes[0].mute_time_intervals == ("offhours",)
    assert len(config.inhibit_rules) == 1


def test_unsupported_parts_are_listed() -> None:
    notes = "\n".join(parse_alertmanager_config(AM_YAML).unsupported)
    assert "templates (Go templates) are not supported" in notes
    assert "global.opsgenie_api_key is not supported" in notes
    assert "receivers[pager].opsgenie_configs is not supported" in notes
    assert "receivers[team-X-mails].slack_configs[0].title is not supported" in notes


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("route: {receiver: nobody}\nreceivers: [{name: a}]", "receiver 'nobody' is not defined"),
        ("route: {receiver: a, routes: [{mute_time_intervals: [x]}]}\nreceivers: [{name: a}]", "'x' is not defined"),
        ("receivers: [{name: a}]", "a route is required"),
        ("route: {receiver: a}\nreceivers: [{name: a, pagerduty_configs: [{service_key: k}]}]", "Events API v1"),
        ("route: [", "not valid YAML"),
    ],
)
def test_broken_files_fail_at_start_with_the_reason(tmp_path: Path, text: str, message: str) -> None:
    path = tmp_path / "alertmanager.yml"
    path.write_text(text)
    with pytest.raises(ConfigError, match=message):
        load_alertmanager_config(path)


def test_missing_file_is_a_config_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="cannot read"):
        load_alertmanager_config(tmp_path / "nope.yml")


async def test_unsupported_keys_are_logged_at_start(
    make_settings: Any, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    path = tmp_path / "alertmanager.yml"
    path.write_text("templates: [x.tmpl]\nroute: {receiver: a}\nreceivers: [{name: a, sns_configs: [{}]}]\n")
    app = create_app(make_settings(alertmanager_config=path))
    with caplog.at_level(logging.WARNING):
        async with app.router.lifespan_context(app):
            pass
    logged = caplog.text
    assert "templates (Go templates) are not supported" in logged
    assert "receivers[a].sns_configs is not supported" in logged


def test_check_config_validates_the_alertmanager_file(tmp_path: Path) -> None:
    import os
    import subprocess
    import sys

    am = tmp_path / "alertmanager.yml"
    config = tmp_path / "nightowl.yaml"
    config.write_text(f"alertmanager_config: {am}\n")
    env = {k: v for k, v in os.environ.items() if not k.startswith("NIGHTOWL_")}

    def check() -> subprocess.CompletedProcess[str]:
        command = [sys.executable, "-m", "nightowl.cli", "check-config", "--config", str(config)]
        return subprocess.run(command, capture_output=True, text=True, env=env, timeout=60)

    am.write_text("templates: [x]\nroute: {receiver: a}\nreceivers: [{name: a}]\n")
    ok = check()
    assert ok.returncode == 0 and "templates (Go templates) are not supported" in ok.stderr
    am.write_text("route: {receiver: nobody}\nreceivers: [{name: a}]\n")
    bad = check()
    assert bad.returncode == 2 and "receiver 'nobody' is not defined" in bad.stderr
