"""Generic webhook: the Alertmanager payload (version 4) or Nightowl's JSON, signed with HMAC-SHA256.

Signature: `X-Nightowl-Signature: sha256=<hex HMAC-SHA256(secret, "<timestamp>.<body>")>` with the
timestamp (Unix seconds) in `X-Nightowl-Timestamp`; receivers reject old timestamps against replays.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Mapping
from typing import Any

from nightowl.notify.channels.base import Channel, DeliveryResult, Field, SendContext, http_result
from nightowl.notify.message import Message, iso


def alertmanager_payload(message: Message, max_alerts: int = 0) -> dict[str, Any]:
    alerts = list(message.alerts)
    truncated = max(0, len(alerts) - max_alerts) if max_alerts else 0
    if max_alerts:
        alerts = alerts[:max_alerts]
    return {
        "version": "4",
        "groupKey": message.group_key,
        "truncatedAlerts": truncated,
        "status": message.status,
        "receiver": message.receiver,
        "groupLabels": message.group_labels,
        "commonLabels": message.common_labels,
        "commonAnnotations": message.common_annotations,
        "externalURL": message.external_url,
        "alerts": [
            {
                "status": a.status,
                "labels": a.labels,
                "annotations": a.annotations,
                "startsAt": iso(a.starts_at),
                "endsAt": iso(a.ends_at),
                "generatorURL": a.generator_url,
                "fingerprint": a.fingerprint,
            }
            for a in alerts
        ],
    }


def nightowl_payload(message: Message) -> dict[str, Any]:
    return {
        "id": message.id,
        "kind": message.kind,
        "status": message.status,
        "title": message.title,
        "receiver": message.receiver,
        "group_key": message.group_key,
        "group_labels": message.group_labels,
        "severity": message.severity,
        "alerts": [
            {
                "status": a.status,
                "labels": a.labels,
                "annotations": a.annotations,
                "starts_at": iso(a.starts_at),
                "ends_at": iso(a.ends_at) if a.ends_at is not None else None,
                "generator_url": a.generator_url,
                "fingerprint": a.fingerprint,
            }
            for a in message.alerts
        ],
        "note": message.note,
        "url": message.external_url,
    }


def sign(secret: str, timestamp: int, body: bytes) -> str:
    digest = hmac.new(secret.encode(), str(timestamp).encode() + b"." + body, hashlib.sha256).hexdigest()
    return f"sha256={digest}"


class Webhook(Channel):
    kind = "webhook"
    label = "Webhook"
    fields = (
        Field("url", required=True, redact="secret_url", help="Where to POST (shown as its host only)."),
        Field("format", "choice", default="alertmanager", choices=("alertmanager", "nightowl")),
        Field("headers", "dict", redact="headers", help="Extra HTTP headers (values masked)."),
        Field("secret", secret=True, help="HMAC-SHA256 signing secret."),
        Field("max_alerts", "int", default=0, help="Send at most this many alerts (0: all)."),
    )

    @classmethod
    def check(cls, config: dict[str, Any]) -> str | None:
        if int(config.get("max_alerts") or 0) < 0:
            return "max_alerts must be 0 (all) or more"
        if not str(config["url"]).startswith(("http://", "https://")):
            return f"url {config['url']!r} must start with http:// or https://"
        return None

    async def send(self, message: Message, config: Mapping[str, Any], ctx: SendContext) -> DeliveryResult:
        if config.get("format") == "nightowl":
            payload = nightowl_payload(message)
        else:
            payload = alertmanager_payload(message, int(config.get("max_alerts") or 0))
        body = json.dumps(payload, separators=(",", ":")).encode()
        headers = {"Content-Type": "application/json", "Idempotency-Key": message.id}
        headers.update(config.get("headers") or {})
        if config.get("secret"):
            timestamp = int(ctx.now)
            headers["X-Nightowl-Timestamp"] = str(timestamp)
            headers["X-Nightowl-Signature"] = sign(str(config["secret"]), timestamp, body)
        response = await ctx.http.post(str(config["url"]), content=body, headers=headers, timeout=ctx.timeout)
        return http_result(response)
