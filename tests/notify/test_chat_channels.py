"""Teams, Discord, Telegram and Apprise payloads, checked by local receivers against each documented format."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import httpx

from nightowl.notify.channels.apprise import Apprise, _refused
from nightowl.notify.channels.discord import Discord
from nightowl.notify.channels.teams import Teams
from nightowl.notify.channels.telegram import Telegram
from nightowl.outbound import OutboundPolicy
from tests.notify.factories import context, message
from tests.notify.receiver import receiver


def check_adaptive_card_message(body: dict[str, Any]) -> None:
    assert body["type"] == "message"
    [attachment] = body["attachments"]
    assert attachment["contentType"] == "application/vnd.microsoft.card.adaptive"
    card = attachment["content"]
    assert card["type"] == "AdaptiveCard" and card["version"] in {"1.2", "1.3", "1.4", "1.5"}
    for element in card["body"]:
        assert element["type"] in {"TextBlock", "FactSet", "Container", "ColumnSet"}
        if element["type"] == "FactSet":
            assert all(set(f) == {"title", "value"} for f in element["facts"])
    for action in card.get("actions", []):
        assert action["type"] == "Action.OpenUrl" and action["url"].startswith("http")


def check_discord_webhook(body: dict[str, Any]) -> None:
    assert len(body["content"]) <= 2000 and len(body["embeds"]) <= 10
    for embed in body["embeds"]:
        assert len(embed["title"]) <= 256 and len(embed["description"]) <= 4096
        assert isinstance(embed["color"], int) and 0 <= embed["color"] <= 0xFFFFFF
        assert len(embed["fields"]) <= 25
        assert all(len(f["name"]) <= 256 and 0 < len(f["value"]) <= 1024 for f in embed["fields"])


async def test_teams_posts_an_adaptive_card() -> None:
    async with receiver(status=202, body="") as teams, context() as ctx:
        result = await Teams().send(message(), Teams.validate({"url": teams.url + "/workflows/x"}), ctx)
    assert result.ok
    body = teams.requests[0].json()
    check_adaptive_card_message(body)
    assert body["attachments"][0]["content"]["body"][0]["text"] == "[FIRING:1] HighLatency"


async def test_discord_posts_embeds() -> None:
    async with receiver(status=204, body="") as discord, context() as ctx:
        config = Discord.validate({"webhook_url": discord.url + "/api/webhooks/1/tok", "username": "nightowl"})
        result = await Discord().send(message("resolved"), config, ctx)
    assert result.ok and result.status_code == 204
    body = discord.requests[0].json()
    check_discord_webhook(body)
    assert body["embeds"][0]["color"] == 0x188038 and body["allowed_mentions"] == {"parse": []}


async def test_telegram_sends_html_with_escaped_values() -> None:
    async with receiver(body='{"ok": true, "result": {"message_id": 1}}') as tg, context() as ctx:
        config = Telegram.validate({"bot_token": "123:ABC", "chat_id": "-100", "api_url": tg.url})
        result = await Telegram().send(message("firing", "alert"), config, ctx)
    assert result.ok
    request = tg.requests[0]
    assert request.path == "/bot123:ABC/sendMessage"
    body = request.json()
    assert body["chat_id"] == "-100" and body["parse_mode"] == "HTML" and len(body["text"]) <= 4096
    assert "instance=<code>api-1</code>" in body["text"]


async def test_apprise_reaches_any_url_it_knows() -> None:
    async with receiver() as target, context() as ctx:
        url = f"json://127.0.0.1:{target.port}/notify"
        result = await Apprise().send(message(), Apprise.validate({"urls": [url]}), ctx)
    assert result.ok
    body = target.requests[0].json()
    assert body["title"] == "[FIRING:1] HighLatency" and "instance: api-1" in body["message"]
    assert body["type"] == "failure"


async def test_apprise_services_on_a_denied_host_are_refused_before_sending() -> None:
    """Apprise connects by itself: each service's host is judged first (tokens in a fixed service's URL are not)."""
    import apprise

    async with receiver() as target, context() as ctx:
        strict = replace(ctx, policy=OutboundPolicy())
        for url in (f"json://127.0.0.1:{target.port}/notify", f"json://localhost:{target.port}/", "json://2852039166/"):
            result = await Apprise().send(message(), Apprise.validate({"urls": [url]}), strict)
            assert not result.ok and not result.retryable
            assert result.error is not None and "not allowed by the outbound policy" in result.error
    assert target.requests == []
    assert await _refused(OutboundPolicy(), apprise.Apprise.instantiate("tgram://123456:abcdef/12345")) is None


async def test_secrets_are_masked_and_kept_when_sent_back_masked(client: httpx.AsyncClient) -> None:
    async with receiver(status=204, body="") as discord:
        created = await client.post(
            "/api/v1/channels",
            json={"name": "d", "kind": "discord", "receiver": "default", "config": {"webhook_url": discord.url}},
        )
        channel = created.json()
        assert channel["config"]["webhook_url"] == "<secret>"
        listed = (await client.get("/api/v1/channels")).text
        assert discord.url not in listed
        update = {**channel, "name": "renamed", "min_severity": "critical", "rate_limit": 10}
        updated = await client.put(f"/api/v1/channels/{channel['id']}", json=update)
        assert updated.status_code == 200 and updated.json()["name"] == "renamed"
        entry = (await client.post(f"/api/v1/channels/{channel['id']}/test")).json()
        assert entry["status"] == "delivered" and entry["status_code"] == 204
    bad = await client.post(
        "/api/v1/channels", json={**update, "min_severity": "urgent", "config": {"webhook_url": "http://x"}}
    )
    assert bad.status_code == 422 and bad.json()["field"] == "min_severity"
    kinds = {k["kind"]: k for k in (await client.get("/api/v1/channels/kinds")).json()}
    assert set(kinds) >= {"webhook", "email", "slack", "pagerduty", "teams", "discord", "telegram", "apprise"}
    assert next(f for f in kinds["email"]["fields"] if f["name"] == "password")["secret"] is True
