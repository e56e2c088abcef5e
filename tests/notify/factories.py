"""Messages and send contexts for channel tests."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from nightowl.notify.channels.base import SendContext
from nightowl.notify.message import AlertView, Message
from nightowl.outbound import OutboundPolicy
from nightowl.outbound.http import policy_client

T0 = 1_700_000_000.0


def alert_view(status: str = "firing", **labels: str) -> AlertView:
    all_labels = {"alertname": "HighLatency", "instance": "api-1", "severity": "critical", **labels}
    return AlertView(
        status=status,
        labels=all_labels,
        annotations={"summary": "p99 latency above 2s", "description": "<b>slow</b> & getting slower"},
        starts_at=T0,
        ends_at=T0 + 600 if status == "resolved" else None,
        generator_url="http://prometheus.example/graph?g0.expr=up",
        fingerprint="a1b2c3d4e5f60718",
    )


def message(status: str = "firing", kind: str = "alert", *alerts: AlertView) -> Message:
    return Message(
        id="msg-1",
        kind=kind,
        receiver="team",
        status=status,
        group_key='{}:{alertname="HighLatency"}',
        group_labels={"alertname": "HighLatency"},
        alerts=alerts or (alert_view(status),),
        external_url="http://nightowl.example",
    )


@asynccontextmanager
async def context(previous: dict[str, str] | None = None) -> AsyncIterator[SendContext]:
    """What the outbox gives a channel, under a policy that allows the loopback servers of the tests."""
    policy = OutboundPolicy(allow_loopback=True)
    async with policy_client(policy) as client:
        yield SendContext(http=client, now=T0 + 5, timeout=5.0, previous=previous, policy=policy)
