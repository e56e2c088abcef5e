"""Slack: incoming webhook and bot token (postMessage, then chat.update on resolve), Block Kit payloads."""

from __future__ import annotations

from typing import Any

from nightowl.notify.channels.slack import Slack
from tests.notify.factories import context, message
from tests.notify.receiver import Reply, Request, receiver


def check_block_kit(body: dict[str, Any]) -> None:
    """The shape Slack documents for chat.postMessage / incoming webhooks with blocks."""
    assert isinstance(body["text"], str) and body["text"]
    assert 1 <= len(body["blocks"]) <= 50
    for block in body["blocks"]:
        assert block["type"] in {"header", "section", "context", "divider", "actions"}
        if block["type"] == "header":
            assert block["text"]["type"] == "plain_text" and len(block["text"]["text"]) <= 150
        if block["type"] == "section":
            assert block["text"]["type"] == "mrkdwn" and len(block["text"]["text"]) <= 3000
            if "accessory" in block:
                assert block["accessory"]["type"] == "button" and block["accessory"]["url"].startswith("http")


async def test_incoming_webhook_posts_block_kit() -> None:
    async with receiver(body="ok") as slack, context() as ctx:
        config = Slack.validate({"webhook_url": slack.url + "/services/T/B/X", "channel": "#ops"})
        result = await Slack().send(message(), config, ctx)
    assert result.ok
    [request] = slack.requests
    assert request.path == "/services/T/B/X"
    body = request.json()
    check_block_kit(body)
    assert body["channel"] == "#ops" and body["blocks"][0]["text"]["text"] == "[FIRING:1] HighLatency"
    assert "`instance=api-1`" in body["blocks"][1]["text"]["text"]


async def test_bot_token_posts_then_updates_the_same_message_on_resolve() -> None:
    def api(request: Request) -> Reply:
        assert request.headers["authorization"] == "Bearer xoxb-1"
        body = request.json()
        check_block_kit(body)
        if request.path == "/api/chat.update":
            assert body["ts"] == "1700000000.000100"
        return 200, '{"ok": true, "channel": "C123", "ts": "1700000000.000100"}', {"Content-Type": "application/json"}

    async with receiver(handler=api) as slack:
        config = Slack.validate({"token": "xoxb-1", "channel": "C123", "api_url": slack.url + "/api"})
        async with context() as ctx:
            first = await Slack().send(message(), config, ctx)
        assert first.ok and first.response == {"channel": "C123", "ts": "1700000000.000100"}
        async with context(previous=first.response) as ctx:
            second = await Slack().send(message("resolved"), config, ctx)
        assert second.ok
    assert [r.path for r in slack.requests] == ["/api/chat.postMessage", "/api/chat.update"]


async def test_slack_api_errors_are_classified() -> None:
    answers = iter(['{"ok": false, "error": "channel_not_found"}', '{"ok": false, "error": "ratelimited"}'])

    def api(request: Request) -> Reply:
        return 200, next(answers), {"Content-Type": "application/json"}

    async with receiver(handler=api) as slack, context() as ctx:
        config = Slack.validate({"token": "xoxb-1", "channel": "C1", "api_url": slack.url})
        permanent = await Slack().send(message(), config, ctx)
        retryable = await Slack().send(message(), config, ctx)
    assert not permanent.ok and not permanent.retryable and "channel_not_found" in (permanent.error or "")
    assert not retryable.ok and retryable.retryable


def test_slack_needs_a_webhook_or_a_token_and_channel() -> None:
    import pytest

    from nightowl.core.errors import InvalidInput

    with pytest.raises(InvalidInput, match="webhook_url, or token and channel"):
        Slack.validate({"token": "xoxb-1"})
