"""E-mail reaches a real SMTP server (aiosmtpd) over STARTTLS with auth, as HTML + plain text."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

from aiosmtpd.smtp import SMTP

from nightowl.notify.channels.email import Email
from tests.notify.factories import context, message
from tests.support.smtp import Inbox, check_login, self_signed


def config(port: int, **extra: Any) -> dict[str, Any]:
    values: dict[str, Any] = {
        "host": "127.0.0.1",
        "port": port,
        "tls": "starttls",
        "verify_tls": False,
        "username": "alerts",
        "password": "pw",
        "from": "nightowl@example.com",
        "to": "oncall@example.com, lead@example.com",
    }
    values.update(extra)
    return Email.validate(values)


async def test_email_is_sent_over_starttls_with_html_and_text(inbox: Inbox) -> None:
    async with context() as ctx:
        result = await Email().send(message(), config(inbox.port), ctx)
    assert result.ok, result.error
    [(envelope, mail)] = inbox.mails
    assert envelope.rcpt_tos == ["oncall@example.com", "lead@example.com"]
    assert mail["Subject"] == "[FIRING:1] HighLatency"
    parts = {
        part.get_content_type(): part.get_payload(decode=True).decode()
        for part in mail.walk()
        if not part.is_multipart()
    }
    assert "instance: api-1" in parts["text/plain"] and "http://prometheus.example/graph" in parts["text/plain"]
    html = parts["text/html"]
    assert "&lt;b&gt;slow&lt;/b&gt; &amp; getting slower" in html  # annotations are escaped in HTML
    assert 'name="viewport"' in html and "api-1" in html


async def test_custom_subject_template(inbox: Inbox) -> None:
    cfg = config(inbox.port, title_template="{{ message.status }}: {{ message.common_labels.instance }}")
    async with context() as ctx:
        assert (await Email().send(message(), cfg, ctx)).ok
    assert inbox.mails[0][1]["Subject"] == "firing: api-1"


async def test_rejected_mail_is_a_permanent_failure_and_busy_server_retryable(inbox: Inbox) -> None:
    inbox.answer = "554 5.7.1 rejected"
    async with context() as ctx:
        result = await Email().send(message(), config(inbox.port), ctx)
        assert not result.ok and not result.retryable and result.status_code == 554
        inbox.answer = "451 4.3.0 try later"
        result = await Email().send(message(), config(inbox.port), ctx)
    assert not result.ok and result.retryable and result.status_code == 451


async def test_unreachable_server_is_retryable() -> None:
    async with context() as ctx:
        result = await Email().send(message(), config(1, tls="none"), ctx)
    assert not result.ok and result.retryable


async def test_implicit_tls_on_connect(tmp_path: Path) -> None:
    box = Inbox()
    tls = self_signed(tmp_path)
    server = await asyncio.get_running_loop().create_server(
        lambda: SMTP(box, authenticator=check_login, auth_require_tls=False), "127.0.0.1", 0, ssl=tls
    )
    port = server.sockets[0].getsockname()[1]
    try:
        async with context() as ctx:
            result = await Email().send(message("resolved"), config(port, tls="tls"), ctx)
    finally:
        server.close()
    assert result.ok, result.error
    assert box.mails[0][1]["Subject"] == "[RESOLVED] HighLatency"
