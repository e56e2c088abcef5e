"""Message text from Jinja2 templates: built-in defaults, overridable per channel (sandboxed, HTML autoescaped)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from jinja2 import TemplateError
from jinja2.sandbox import SandboxedEnvironment

from nightowl.core.errors import InvalidInput
from nightowl.notify.message import Message

TITLE = "{{ message.title }}"

TEXT = """\
{{ message.title }}
{% if message.note %}
{{ message.note }}
{% endif %}
{% for alert in message.alerts %}

- [{{ alert.status }}] {{ alert.annotations.summary or alert.labels.alertname }}
{% for name, value in alert.labels | dictsort %}
  {{ name }}: {{ value }}
{% endfor %}
{% if alert.annotations.description %}
  {{ alert.annotations.description }}
{% endif %}
{% if alert.annotations.value %}
  value: {{ alert.annotations.value }}
{% endif %}
  since {{ alert.starts_at | datetime }}
{% if alert.generator_url %}
  source: {{ alert.generator_url }}
{% endif %}
{% endfor %}
{% if message.external_url %}

{{ message.external_url }}
{% endif %}
"""

HTML = """\
<!doctype html>
<html><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>{{ message.title }}</title>
<style>
body { font-family: -apple-system, Segoe UI, Roboto, sans-serif; margin: 0; padding: 12px; background: #f4f5f7; }
.card { max-width: 640px; margin: 0 auto 12px; background: #fff; border-radius: 6px; padding: 16px; }
.firing { border-left: 6px solid #d93025; } .resolved { border-left: 6px solid #188038; }
table { width: 100%; border-collapse: collapse; font-size: 14px; } td { padding: 2px 6px; vertical-align: top; }
td.k { color: #5f6368; white-space: nowrap; width: 30%; }
@media (max-width: 480px) { body { padding: 4px; } .card { padding: 10px; } }
</style></head>
<body>
<h2 style="max-width:640px;margin:0 auto 12px">{{ message.title }}</h2>
{% if message.note %}<p style="max-width:640px;margin:0 auto 12px">{{ message.note }}</p>{% endif %}
{% for alert in message.alerts %}
<div class="card {{ alert.status }}">
  <strong>{{ alert.annotations.summary or alert.labels.alertname }}</strong> &middot; {{ alert.status }}
  {% if alert.annotations.description %}<p>{{ alert.annotations.description }}</p>{% endif %}
  <table>
  {% for name, value in alert.labels | dictsort %}<tr><td class="k">{{ name }}</td><td>{{ value }}</td></tr>{% endfor %}
  {% if alert.annotations.value %}<tr><td class="k">value</td><td>{{ alert.annotations.value }}</td></tr>{% endif %}
  <tr><td class="k">since</td><td>{{ alert.starts_at | datetime }}</td></tr>
  </table>
  {% if graphs and alert.fingerprint in graphs %}
  <p><img src="{{ graphs[alert.fingerprint] }}" alt="the last hour" width="560" style="max-width:100%;height:auto"></p>
  {% endif %}
  {% if alert.generator_url %}<p><a href="{{ alert.generator_url }}">Source</a></p>{% endif %}
</div>
{% endfor %}
{% if message.external_url %}
<p style="text-align:center"><a href="{{ message.external_url }}">Open Nightowl</a></p>
{% endif %}
</body></html>
"""


def _datetime(value: float | None) -> str:
    if value is None:
        return ""
    return datetime.fromtimestamp(value, UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


def _env(autoescape: bool) -> SandboxedEnvironment:
    env = SandboxedEnvironment(autoescape=autoescape, trim_blocks=True, lstrip_blocks=True)
    env.filters["datetime"] = _datetime
    return env


_TEXT_ENV = _env(False)
_HTML_ENV = _env(True)


def check_template(source: str, field: str) -> None:
    """Reject a template that does not parse, when the channel is saved rather than when it sends."""
    try:
        _TEXT_ENV.parse(source)
    except TemplateError as exc:
        raise InvalidInput(f"{field}: invalid template: {exc}", field=field) from None


def render(source: str, message: Message, html: bool = False, **extra: Any) -> str:
    env = _HTML_ENV if html else _TEXT_ENV
    return env.from_string(source).render(message=message, **extra).strip()


def render_field(config: dict[str, Any], key: str, default: str, message: Message, html: bool = False) -> str:
    return render(str(config.get(key) or default), message, html)
