"""Discord: a webhook message with one embed per alert (Discord's limits respected)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from nightowl.notify import templates
from nightowl.notify.channels.base import TEMPLATE_FIELDS, Channel, DeliveryResult, Field, SendContext, http_result
from nightowl.notify.message import Message, iso

RED, GREEN = 0xD93025, 0x188038


def payload(message: Message, title: str, username: str | None) -> dict[str, Any]:
    embeds = []
    for alert in message.alerts[:10]:
        summary = alert.annotations.get("summary") or alert.labels.get("alertname", "")
        embed: dict[str, Any] = {
            "title": f"{summary} ({alert.status})"[:256],
            "description": (alert.annotations.get("description") or "")[:4096],
            "color": RED if alert.status == "firing" else GREEN,
            "timestamp": iso(alert.starts_at),
            "fields": [
                {"name": k[:256], "value": v[:1024] or "-", "inline": True} for k, v in sorted(alert.labels.items())
            ][:25],
        }
        if alert.generator_url:
            embed["url"] = alert.generator_url
        embeds.append(embed)
    body: dict[str, Any] = {"content": title[:2000], "embeds": embeds, "allowed_mentions": {"parse": []}}
    if username:
        body["username"] = username
    return body


class Discord(Channel):
    kind = "discord"
    label = "Discord"
    fields = (
        Field("webhook_url", required=True, secret=True, help="https://discord.com/api/webhooks/<id>/<token>"),
        Field("username"),
        *TEMPLATE_FIELDS,
    )

    async def send(self, message: Message, config: Mapping[str, Any], ctx: SendContext) -> DeliveryResult:
        title = templates.render_field(dict(config), "title_template", templates.TITLE, message)
        body = payload(message, title, config.get("username"))
        response = await ctx.http.post(str(config["webhook_url"]), json=body, timeout=ctx.timeout)
        return http_result(response)
