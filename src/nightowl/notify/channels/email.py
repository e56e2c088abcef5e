"""E-mail over SMTP (STARTTLS, implicit TLS or plain; optional auth), HTML and plain-text bodies."""

from __future__ import annotations

import ssl
from collections.abc import Mapping
from email.message import EmailMessage
from email.utils import formatdate, make_msgid
from typing import Any

import aiosmtplib

from nightowl.notify import templates
from nightowl.notify.channels.base import TEMPLATE_FIELDS, Channel, DeliveryResult, Field, SendContext
from nightowl.notify.message import Message
from nightowl.outbound import OutboundDenied, public_error
from nightowl.outbound.connect import connected_socket


def build_email(
    message: Message, config: Mapping[str, Any], now: float, graphs: Mapping[str, bytes] | None = None
) -> EmailMessage:
    """Plain text + HTML; graphs (PNG by alert fingerprint) go inline with the HTML, referenced by Content-ID."""
    mail = EmailMessage()
    mail["Subject"] = templates.render_field(dict(config), "title_template", templates.TITLE, message)
    mail["From"] = str(config["from"])
    mail["To"] = ", ".join(config["to"])
    mail["Date"] = formatdate(now)
    mail["Message-ID"] = make_msgid(idstring=message.id, domain="nightowl")
    for name, value in (config.get("headers") or {}).items():
        mail[name] = value
    mail.set_content(templates.render_field(dict(config), "text_template", templates.TEXT, message))
    cids = {fingerprint: make_msgid(idstring=fingerprint, domain="nightowl") for fingerprint in graphs or {}}
    html = templates.render(
        str(config.get("html_template") or templates.HTML),
        message,
        html=True,
        graphs={fingerprint: "cid:" + cid.strip("<>") for fingerprint, cid in cids.items()},
    )
    mail.add_alternative(html, subtype="html")
    if graphs:
        html_part = next(part for part in mail.iter_parts() if part.get_content_type() == "text/html")
        assert isinstance(html_part, EmailMessage)
        for fingerprint, png in graphs.items():
            html_part.add_related(png, "image", "png", cid=cids[fingerprint], filename=f"{fingerprint}.png")
    return mail


class Email(Channel):
    kind = "email"
    label = "E-mail (SMTP)"
    fields = (
        Field("host", required=True, help="SMTP server."),
        Field("port", "int", default=587),
        Field("tls", "choice", default="starttls", choices=("starttls", "tls", "none")),
        Field("username"),
        Field("password", secret=True),
        Field("from", required=True),
        Field("to", "list", required=True, help="Recipients (a list or comma-separated)."),
        Field("headers", "dict", redact="headers"),
        Field("verify_tls", "bool", default=True, help="Check the server certificate."),
        *TEMPLATE_FIELDS,
        Field("html_template", help="Jinja2 template of the HTML body (autoescaped)."),
    )

    async def send(self, message: Message, config: Mapping[str, Any], ctx: SendContext) -> DeliveryResult:
        graphs = await ctx.graphs(message) if ctx.graphs is not None and message.kind != "test" else {}
        mail = build_email(message, config, ctx.now, graphs)
        context = ssl.create_default_context()
        if not config.get("verify_tls", True):
            context.check_hostname = False
            context.verify_mode = ssl.CERT_NONE
        mode = config.get("tls", "starttls")
        host = str(config["host"])
        try:
            sock = await connected_socket(ctx.policy, host, int(config.get("port", 587)), ctx.timeout)
        except OutboundDenied as exc:  # only a new configuration helps
            return DeliveryResult(False, None, f"SMTP: {exc}", retryable=False)
        except OSError as exc:
            return DeliveryResult(False, None, f"SMTP: {public_error(exc, where=f'smtp {host}')}")
        try:
            await aiosmtplib.send(
                mail,
                hostname=host,
                sock=sock,
                username=config.get("username") or None,
                password=config.get("password") or None,
                use_tls=mode == "tls",
                start_tls=True if mode == "starttls" else False,
                tls_context=context,
                timeout=ctx.timeout,
            )
        except aiosmtplib.SMTPResponseException as exc:
            # 5xx is permanent (bad recipient, auth refused); 4xx is worth another try
            return DeliveryResult(False, exc.code, f"SMTP {exc.code}: {exc.message}", retryable=exc.code < 500)
        except (aiosmtplib.SMTPConnectError, aiosmtplib.SMTPTimeoutError, OSError) as exc:
            return DeliveryResult(False, None, f"SMTP: {public_error(exc, where=f'smtp {host}')}")
        except aiosmtplib.SMTPException as exc:  # the server answered: what it said is no port scan
            return DeliveryResult(False, None, f"SMTP: {exc}")
        finally:
            sock.close()
        return DeliveryResult(True, 250)
