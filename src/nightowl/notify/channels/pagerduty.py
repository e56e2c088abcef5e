"""PagerDuty Events API v2: trigger, acknowledge and resolve, one event per alert with a stable dedup_key."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from nightowl.notify.channels.base import Channel, DeliveryResult, Field, SendContext, http_result
from nightowl.notify.message import AlertView, Message, iso

EVENTS_API = "https://events.pagerduty.com/v2/enqueue"
PD_SEVERITIES = ("critical", "error", "warning", "info")


def dedup_key(alert: AlertView) -> str:
    """The same alert always maps to the same incident, across retries, restarts and repeats."""
    return f"nightowl-{alert.fingerprint}"


def event(message: Message, alert: AlertView, config: Mapping[str, Any]) -> dict[str, Any]:
    if message.kind == "acknowledgement":
        action = "acknowledge"
    else:
        action = "resolve" if alert.status == "resolved" else "trigger"
    body: dict[str, Any] = {"routing_key": config["routing_key"], "event_action": action, "dedup_key": dedup_key(alert)}
    if action != "trigger":
        return body
    severity = config.get("severity") or alert.labels.get("severity", "")
    summary = alert.annotations.get("summary") or alert.labels.get("alertname", "alert")
    body["payload"] = {
        "summary": f"{summary} ({', '.join(f'{k}={v}' for k, v in sorted(alert.labels.items()))})"[:1024],
        "source": config.get("source") or alert.labels.get("instance") or "nightowl",
        "severity": severity if severity in PD_SEVERITIES else "error",
        "timestamp": iso(alert.starts_at),
        "custom_details": {"labels": alert.labels, "annotations": alert.annotations},
    }
    for key in ("component", "group", "class"):
        if config.get(key) or alert.labels.get(key):
            body["payload"][key] = config.get(key) or alert.labels[key]
    body["client"] = config.get("client") or "Nightowl"
    if config.get("client_url") or message.external_url:
        body["client_url"] = config.get("client_url") or message.external_url
    if alert.generator_url:
        body["links"] = [{"href": alert.generator_url, "text": "Source"}]
    return body


class PagerDuty(Channel):
    kind = "pagerduty"
    label = "PagerDuty"
    fields = (
        Field("routing_key", required=True, secret=True, help="Events API v2 integration key."),
        Field("api_url", default=EVENTS_API, redact="url"),
        Field("severity", "choice", choices=("", *PD_SEVERITIES), help="Fixed severity; default: the alert's."),
        Field("source"),
        Field("component"),
        Field("group"),
        Field("class"),
        Field("client"),
        Field("client_url"),
    )

    async def send(self, message: Message, config: Mapping[str, Any], ctx: SendContext) -> DeliveryResult:
        url = str(config.get("api_url") or EVENTS_API)
        last = DeliveryResult(True, 202)
        for alert in message.alerts:
            response = await ctx.http.post(url, json=event(message, alert, config), timeout=ctx.timeout)
            last = http_result(response)
            if not last.ok:
                return last  # the whole message is retried; dedup_key makes re-sent events harmless
        return last
