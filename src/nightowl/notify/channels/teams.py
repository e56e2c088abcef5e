"""Microsoft Teams: an Adaptive Card posted to a Workflows (Power Automate) or incoming webhook URL."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from nightowl.notify import templates
from nightowl.notify.channels.base import TEMPLATE_FIELDS, Channel, DeliveryResult, Field, SendContext, http_result
from nightowl.notify.message import Message


def adaptive_card(message: Message, title: str) -> dict[str, Any]:
    body: list[dict[str, Any]] = [
        {
            "type": "TextBlock",
            "text": title,
            "weight": "Bolder",
            "size": "Large",
            "wrap": True,
            "color": "Attention" if message.status == "firing" else "Good",
        }
    ]
    for alert in message.alerts[:20]:
        summary = alert.annotations.get("summary") or alert.labels.get("alertname", "")
        body.append({"type": "TextBlock", "text": f"**{summary}** ({alert.status})", "wrap": True})
        body.append({"type": "FactSet", "facts": [{"title": k, "value": v} for k, v in sorted(alert.labels.items())]})
    actions = [
        {"type": "Action.OpenUrl", "title": "Source", "url": a.generator_url}
        for a in message.alerts[:3]
        if a.generator_url
    ]
    if message.external_url:
        actions.append({"type": "Action.OpenUrl", "title": "Nightowl", "url": message.external_url})
    card: dict[str, Any] = {
        "$schema": "http://adaptivecards.io/schemas/adaptive-card.json",
        "type": "AdaptiveCard",
        "version": "1.4",
        "body": body,
    }
    if actions:
        card["actions"] = actions
    return {
        "type": "message",
        "attachments": [
            {"contentType": "application/vnd.microsoft.card.adaptive", "contentUrl": None, "content": card}
        ],
    }


class Teams(Channel):
    kind = "teams"
    label = "Microsoft Teams"
    fields = (Field("url", required=True, secret=True, help="Workflows or incoming webhook URL."), *TEMPLATE_FIELDS)

    async def send(self, message: Message, config: Mapping[str, Any], ctx: SendContext) -> DeliveryResult:
        title = templates.render_field(dict(config), "title_template", templates.TITLE, message)
        response = await ctx.http.post(str(config["url"]), json=adaptive_card(message, title), timeout=ctx.timeout)
        return http_result(response)
