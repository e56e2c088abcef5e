"""Telegram: the Bot API's sendMessage with HTML formatting."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from nightowl.notify import templates
from nightowl.notify.channels.base import Channel, DeliveryResult, Field, SendContext, http_result
from nightowl.notify.message import Message

TELEGRAM_API = "https://api.telegram.org"

TEXT = """\
<b>{{ message.title }}</b>
{% for alert in message.alerts %}
{{ '🔴' if alert.status == 'firing' else '🟢' }} <b>{{ alert.annotations.summary or alert.labels.alertname }}</b>
{% for name, value in alert.labels | dictsort %}{{ name }}=<code>{{ value }}</code> {% endfor %}
{% endfor %}"""


class Telegram(Channel):
    kind = "telegram"
    label = "Telegram"
    fields = (
        Field("bot_token", required=True, secret=True),
        Field("chat_id", required=True, integer_ok=True, help="Chat id (a number) or @channelname."),
        Field("api_url", default=TELEGRAM_API, redact="url"),
        Field("text_template", help="Jinja2 template (Telegram HTML subset), autoescaped."),
    )

    async def send(self, message: Message, config: Mapping[str, Any], ctx: SendContext) -> DeliveryResult:
        text = templates.render(str(config.get("text_template") or TEXT), message, html=True)[:4096]
        api = str(config.get("api_url") or TELEGRAM_API).rstrip("/")
        body = {"chat_id": config["chat_id"], "text": text, "parse_mode": "HTML", "disable_web_page_preview": True}
        response = await ctx.http.post(f"{api}/bot{config['bot_token']}/sendMessage", json=body, timeout=ctx.timeout)
        return http_result(response)
