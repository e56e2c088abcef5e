"""Configuration holding known secrets in every place one can hide, for the tests that look for leaks."""

from __future__ import annotations

from pathlib import Path

import httpx

SECRETS = {
    "smtp": "smtp-pass-5e3c",
    "smtp_secret": "smtp-secret-0a1b",
    "slack": "slack-token-77aa",
    "pagerduty": "pd-routing-key-9f1e",
    "pagerduty_service": "pd-service-key-1d2c",
    "telegram": "123456:telegram-bot-token-4b4b",
    "webhook_am": "am-webhook-token-31f0",
    "opsgenie": "opsgenie-key-c3c3",
    "basic_auth": "am-basic-pass-8d8d",
    "bearer": "am-bearer-token-6e6e",
    "discord": "discord-token-2c2c",
    "channel_header": "channel-header-bearer-a1a1",
    "channel_url_password": "channel-url-pass-b2b2",
    "channel_url_query": "channel-url-query-c3c3",
    "channel_signing": "channel-signing-secret-d4d4",
    "integration_header": "integration-header-e5e5",
    "integration_url_password": "integration-url-pass-f6f6",
    "integration_secret": "integration-hmac-0707",
    "forwarder_key": "forwarder-api-key-1818",
    "forwarder_url_password": "forwarder-url-pass-2929",
    "check_query": "check-query-token-3a3a",
    "check_header": "check-header-key-4b4b",
    "check_body": "check-body-password-5c5c",
    "check_dsn": "check-dsn-password-6d6d",
}

ALERTMANAGER_YML = f"""
global:
  resolve_timeout: 5m
  smtp_smarthost: 'mail.example.com:587'
  smtp_from: 'am@example.com'
  smtp_auth_username: 'am'
  smtp_auth_password: '{SECRETS["smtp"]}'
  smtp_auth_secret: '{SECRETS["smtp_secret"]}'
  slack_api_url: 'https://hooks.slack.com/services/T000/B000/{SECRETS["slack"]}'
  opsgenie_api_key: '{SECRETS["opsgenie"]}'
  http_config:
    basic_auth:
      username: am
      password: '{SECRETS["basic_auth"]}'
route:
  receiver: ops
receivers:
- name: ops
  email_configs:
  - to: 'ops@example.com'
  slack_configs:
  - channel: '#ops'
  pagerduty_configs:
  - routing_key: '{SECRETS["pagerduty"]}'
  - service_key: '{SECRETS["pagerduty_service"]}'
    routing_key: '{SECRETS["pagerduty"]}'
  telegram_configs:
  - bot_token: '{SECRETS["telegram"]}'
    chat_id: -1001234567890
  webhook_configs:
  - url: 'https://am-hook.example/{SECRETS["webhook_am"]}'
    http_config:
      authorization:
        credentials: '{SECRETS["bearer"]}'
  discord_configs:
  - webhook_url: 'https://discord.example/api/webhooks/1/{SECRETS["discord"]}'
"""


def write_alertmanager_yml(directory: Path) -> Path:
    path = directory / "alertmanager.yml"
    path.write_text(ALERTMANAGER_YML, encoding="utf-8")
    return path


CHANNEL = {
    "name": "hook",
    "kind": "webhook",
    "receiver": "ops",
    "config": {
        "url": f"https://user:{SECRETS['channel_url_password']}@hooks.example/in?token={SECRETS['channel_url_query']}",
        "headers": {"Authorization": f"Bearer {SECRETS['channel_header']}", "Content-Type": "application/json"},
        "secret": SECRETS["channel_signing"],
    },
}
INTEGRATION = {
    "name": "events",
    "url": f"https://bot:{SECRETS['integration_url_password']}@events.example/hook",
    "events": ["*"],
    "headers": {"X-Api-Key": SECRETS["integration_header"]},
    "secret": SECRETS["integration_secret"],
}
FORWARDER = {
    "url": f"https://grafana:{SECRETS['forwarder_url_password']}@prometheus.example/api/prom/push",
    "api_key": SECRETS["forwarder_key"],
    "enabled": False,
}
HTTP_CHECK = {
    "name": "api",
    "type": "http",
    "target": f"https://api.example/health?token={SECRETS['check_query']}",
    "method": "POST",
    "headers": {"X-Api-Key": SECRETS["check_header"], "Accept": "application/json"},
    "body": f'{{"password": "{SECRETS["check_body"]}"}}',
    "enabled": False,
}
PG_CHECK = {
    "name": "db",
    "type": "postgres",
    "target": f"postgresql://monitor:{SECRETS['check_dsn']}@db.example:5432/app",
    "enabled": False,
}


async def seed(admin: httpx.AsyncClient) -> dict[str, str]:
    """Create one of each secret-bearing resource through the API; returns their ids."""
    ids: dict[str, str] = {}
    for name, method, url, body in (
        ("channel", "POST", "/api/v1/channels", CHANNEL),
        ("integration", "POST", "/api/v1/integrations/webhooks", INTEGRATION),
        ("forwarder", "PUT", "/api/v1/integrations/external/remote_write", FORWARDER),
        ("http_check", "POST", "/api/v1/checks", HTTP_CHECK),
        ("pg_check", "POST", "/api/v1/checks", PG_CHECK),
    ):
        response = await admin.request(method, url, json=body)
        assert response.status_code in (200, 201), (url, response.text)
        ids[name] = response.json().get("id", "remote_write")
    return ids


def leaked(text: str) -> list[str]:
    """The seeded secrets found in `text`."""
    return [name for name, secret in SECRETS.items() if secret in text]
