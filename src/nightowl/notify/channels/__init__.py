"""The channel registry: one module per kind, one class each behind `Channel.send`."""

from __future__ import annotations

from nightowl.core.errors import InvalidInput
from nightowl.notify.channels.apprise import Apprise
from nightowl.notify.channels.base import Channel
from nightowl.notify.channels.discord import Discord
from nightowl.notify.channels.email import Email
from nightowl.notify.channels.pagerduty import PagerDuty
from nightowl.notify.channels.slack import Slack
from nightowl.notify.channels.teams import Teams
from nightowl.notify.channels.telegram import Telegram
from nightowl.notify.channels.webhook import Webhook

CHANNELS: dict[str, type[Channel]] = {
    cls.kind: cls for cls in (Webhook, Email, Slack, PagerDuty, Teams, Discord, Telegram, Apprise)
}


def channel_class(kind: str) -> type[Channel]:
    try:
        return CHANNELS[kind]
    except KeyError:
        raise InvalidInput(f"unknown channel kind {kind!r}; known: {sorted(CHANNELS)}", field="kind") from None
