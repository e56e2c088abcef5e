"""Apprise: any of its ~100 services by URL (tgram://, ntfy://, mmost://, gchat://...), for the long tail.

Optional: `pip install 'nightowl[apprise]'`. Slack, PagerDuty, Discord and Teams have native channels.

Apprise opens its own connections, so the outbound policy can only judge each service's host before
the send (not pin the address): the native channels are the safer choice where one exists.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from nightowl.notify import templates
from nightowl.notify.channels.base import TEMPLATE_FIELDS, Channel, DeliveryResult, Field, SendContext
from nightowl.notify.message import Message
from nightowl.outbound import OutboundDenied, OutboundPolicy


async def _refused(policy: OutboundPolicy, service: Any) -> str | None:
    """Why the policy refuses a service's host, or None.

    A service with a fixed https endpoint (Telegram, Discord, Pushover...) keeps tokens where its host
    would be, and a host that does not resolve cannot be reached either: neither is judged.
    """
    fixed = getattr(type(service), "notify_url", None)
    host = getattr(service, "host", None)
    if (isinstance(fixed, str) and fixed.startswith("https://")) or not isinstance(host, str) or not host:
        return None
    try:
        await policy.resolve(host, int(getattr(service, "port", None) or 443))
    except OutboundDenied as exc:
        return str(exc)
    except OSError:
        return None
    return None


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
        for service in sender:
            refused = await _refused(ctx.policy, service)
            if refused is not None:
                return DeliveryResult(False, error=refused, retryable=False)
        title = templates.render_field(dict(config), "title_template", templates.TITLE, message)
        body = templates.render_field(dict(config), "text_template", templates.TEXT, message)
        kind = apprise.NotifyType.FAILURE if message.status == "firing" else apprise.NotifyType.SUCCESS
        ok = await sender.async_notify(body=body, title=title, notify_type=kind)
        return DeliveryResult(bool(ok), error=None if ok else "apprise: at least one service failed")
