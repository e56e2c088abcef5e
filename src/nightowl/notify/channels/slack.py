"""Slack: an incoming webhook, or a bot token posting with chat.postMessage and updating on resolve.

Messages use Block Kit; `api_url` (default https://slack.com/api) is configurable for tests and proxies.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from nightowl.notify import templates
from nightowl.notify.channels.base import TEMPLATE_FIELDS, Channel, DeliveryResult, Field, SendContext, http_result
from nightowl.notify.message import Message

SLACK_API = "https://slack.com/api"
_RETRYABLE_ERRORS = {"ratelimited", "internal_error", "fatal_error", "service_unavailable", "request_timeout"}


def blocks(message: Message, title: str) -> list[dict[str, Any]]:
    icon = ":red_circle:" if message.status == "firing" else ":large_green_circle:"
    out: list[dict[str, Any]] = [
        {"type": "header", "text": {"type": "plain_text", "text": title[:150], "emoji": True}},
    ]
    if message.note:
        out.append({"type": "context", "elements": [{"type": "mrkdwn", "text": message.note[:3000]}]})
    for alert in message.alerts[:20]:  # Slack allows 50 blocks; keep room
        summary = alert.annotations.get("summary") or alert.labels.get("alertname", "")
        labels = ", ".join(f"`{k}={v}`" for k, v in sorted(alert.labels.items()))
        text = f"{icon} *{summary}* ({alert.status})\n{labels}"
        if alert.annotations.get("description"):
            text += f"\n{alert.annotations['description']}"
        section: dict[str, Any] = {"type": "section", "text": {"type": "mrkdwn", "text": text[:3000]}}
        if alert.generator_url.startswith(("http://", "https://")):  # Slack refuses a relative button URL
            section["accessory"] = {
                "type": "button",
                "text": {"type": "plain_text", "text": "Source"},
                "url": alert.generator_url,
            }
        out.append(section)
    if len(message.alerts) > 20:
        out.append({"type": "context", "elements": [{"type": "mrkdwn", "text": f"+{len(message.alerts) - 20} more"}]})
    if message.external_url:
        out.append({"type": "context", "elements": [{"type": "mrkdwn", "text": f"<{message.external_url}|Nightowl>"}]})
    return out


class Slack(Channel):
    kind = "slack"
    label = "Slack"
    fields = (
        Field("webhook_url", secret=True, help="Incoming webhook URL (or use token + channel)."),
        Field("token", secret=True, help="Bot token (xoxb-...) for chat.postMessage and chat.update."),
        Field("channel", help="Channel id or name (bot token; overrides the webhook's default)."),
        Field("api_url", default=SLACK_API, redact="url", help="Slack Web API base URL."),
        Field("username"),
        Field("icon_emoji"),
        *TEMPLATE_FIELDS,
    )

    @classmethod
    def check(cls, config: dict[str, Any]) -> str | None:
        if not config.get("webhook_url") and not (config.get("token") and config.get("channel")):
            return "set webhook_url, or token and channel"
        return None

    async def send(self, message: Message, config: Mapping[str, Any], ctx: SendContext) -> DeliveryResult:
        title = templates.render_field(dict(config), "title_template", templates.TITLE, message)
        text = templates.render_field(dict(config), "text_template", "{{ message.title }}", message)
        body: dict[str, Any] = {"text": text, "blocks": blocks(message, title)}
        for key in ("username", "icon_emoji", "channel"):
            if config.get(key):
                body[key] = config[key]
        if not config.get("token"):
            response = await ctx.http.post(str(config["webhook_url"]), json=body, timeout=ctx.timeout)
            return http_result(response)
        api = str(config.get("api_url") or SLACK_API).rstrip("/")
        headers = {"Authorization": f"Bearer {config['token']}"}
        previous = ctx.previous or {}
        method = "chat.postMessage"
        if message.status == "resolved" and previous.get("ts"):
            method = "chat.update"
            body.update(channel=previous["channel"], ts=previous["ts"])
        response = await ctx.http.post(f"{api}/{method}", json=body, headers=headers, timeout=ctx.timeout)
        if not response.is_success:
            return http_result(response)
        answer = response.json()
        if not answer.get("ok"):
            error = str(answer.get("error", "unknown"))
            return DeliveryResult(False, response.status_code, f"slack: {error}", error in _RETRYABLE_ERRORS)
        return DeliveryResult(True, response.status_code, response={"channel": answer["channel"], "ts": answer["ts"]})
