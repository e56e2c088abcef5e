"""alertmanager.yml as `GET /api/v2/status` shows it: every secret replaced by `<secret>`, as Alertmanager does.

Alertmanager types these fields as `Secret` or `SecretURL` and never marshals their values; the file is
shown re-serialised (comments, where people also leave secrets, are gone), with the same fields masked.
"""

from __future__ import annotations

from typing import Any

import yaml

from nightowl.auth.redact import MASK

SECRET_KEYS = frozenset(
    {
        # global
        "smtp_auth_password",
        "smtp_auth_secret",
        "slack_api_url",
        "opsgenie_api_key",
        "victorops_api_key",
        "wechat_api_secret",
        "rocketchat_token",
        "rocketchat_token_id",
        # receivers
        "auth_password",
        "auth_secret",
        "service_key",
        "routing_key",
        "api_key",
        "api_secret",
        "user_key",
        "token",
        "token_id",
        "bot_token",
        "webhook_url",
        "alert_source_token",
        "secret_key",
        # http_config (Prometheus common config): basic_auth.password, authorization.credentials,
        # oauth2.client_secret, bearer_token, tls_config.key
        "password",
        "credentials",
        "client_secret",
        "bearer_token",
        "key",
    }
)
"""Keys whose value is a secret wherever they appear (their `*_file` twins name a file and are shown)."""

SECRET_URL_IN = {"webhook_configs": "url", "slack_configs": "api_url", "incidentio_configs": "url"}
"""Receiver kinds whose URL itself is the secret (Alertmanager's SecretURL)."""

SECRET_VALUE_MAPS = frozenset({"proxy_connect_header", "http_headers"})
"""Header maps whose values are secrets."""


def _mask(node: Any, parent: str = "") -> Any:
    if isinstance(node, dict):
        out: dict[Any, Any] = {}
        for key, value in node.items():
            name = str(key)
            if value is None or value == "":
                out[key] = value
            elif name in SECRET_KEYS or SECRET_URL_IN.get(parent) == name:
                out[key] = MASK
            elif name in SECRET_VALUE_MAPS and isinstance(value, dict):
                out[key] = {k: MASK for k in value}
            else:
                out[key] = _mask(value, name)
        return out
    if isinstance(node, list):
        return [_mask(item, parent) for item in node]
    return node


def redacted_yaml(text: str) -> str:
    """The configuration with its secrets masked; a file that does not parse is shown as nothing."""
    if not text.strip():
        return text
    try:
        tree = yaml.safe_load(text)
    except yaml.YAMLError:
        return ""
    return yaml.safe_dump(_mask(tree), sort_keys=False, allow_unicode=True)
