"""Apprise: any of its ~100 services by URL (tgram://, ntfy://, mmost://, gchat://...), for the long tail.

Optional: `pip install 'nightowl[apprise]'`. Slack, PagerDuty, Discord and Teams have native channels.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from nightowl.notify import templates
from nightowl.notify.channels.base import TEMPLATE_FIELDS, Channel, DeliveryResult, Field, SendContext
from nightowl.notify.message import Message


class Apprise(Channel):
    kind = "apprise"
    label = "Apprise (any service by URL)"
    fields = (Field("urls", "list", required=True, secret=True, help="Apprise URLs."), *TEMPLATE_FIELDS)

    async def send(self, message: Message, config: Mapping[str, Any], ctx: SendContext) -> DeliveryResult:
        try:
            import apprise
        except ImportError:
            return DeliveryResult(
                False, error="apprise is not installed: pip install 'nightowl[apprise]'", retryable=False
            )
        sender = apprise.Apprise()
        urls = config["urls"] if isinstance(config["urls"], list) else str(config["urls"]).split(",")
        for url in urls:
            if not sender.add(url):
                return DeliveryResult(False, error="an Apprise URL is not recognised", retryable=False)
        title = templates.render_field(dict(config), "title_template", templates.TITLE, message)
        body = templates.render_field(dict(config), "text_template", templates.TEXT, message)
        kind = apprise.NotifyType.FAILURE if message.status == "firing" else apprise.NotifyType.SUCCESS
        ok = await sender.async_notify(body=body, title=title, notify_type=kind)
        return DeliveryResult(bool(ok), error=None if ok else "apprise: at least one service failed")
