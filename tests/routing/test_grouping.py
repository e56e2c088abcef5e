"""Grouping timers as Alertmanager has them: group_wait, then group_interval, repeat_interval, resolved."""

from __future__ import annotations

from dataclasses import replace

from nightowl.routing.alert import Alert
from nightowl.routing.grouping import AggregationGroup, FlushResult, NotifyRecord, flush, needs_update, new_group
from tests.routing.factories import T0, alert, route


def never_muted(_alert: Alert) -> bool:
    return False


class Run:
    """Drives one group through flushes the way the dispatcher does, recording the notification log."""

    def __init__(self, group: AggregationGroup) -> None:
        self.group = group
        self.record: NotifyRecord | None = None

    def due(self, now: float, muted: object = never_muted, time_muted: bool = False) -> FlushResult | None:
        if now < self.group.next_flush:
            return None
        result = flush(self.group, now, self.record, muted, time_muted)  # type: ignore[arg-type]
        self.record = result.record
        for fp in result.removed:
            self.group.alerts.pop(fp, None)
        return result


def test_first_notification_waits_group_wait_and_batches_alerts() -> None:
    r = route()
    group = new_group(r, alert(instance="a"), T0)
    assert group.next_flush == T0 + 30
    group.insert(alert(instance="b", starts_at=T0 + 10), T0 + 10)
    run = Run(group)
    assert run.due(T0 + 29) is None
    result = run.due(T0 + 30)
    assert result is not None and result.notification is not None
    assert [a.labels["instance"] for a in result.notification.firing] == ["a", "b"]
    assert result.notification.group_key == '{}:{alertname="HighLatency"}'
    assert group.next_flush == T0 + 330


def test_new_alert_waits_group_interval_then_repeat_interval() -> None:
    group = new_group(route(), alert(instance="a"), T0)
    run = Run(group)
    assert run.due(T0 + 30).notification is not None  # type: ignore[union-attr]
    group.insert(alert(instance="b", starts_at=T0 + 60), T0 + 60)
    assert run.due(T0 + 60) is None  # not before group_interval
    second = run.due(T0 + 330)
    assert second is not None and second.notification is not None and len(second.notification.firing) == 2
    # nothing changed: silent flushes until the repeat interval (4h) has passed since the last notice
    now = T0 + 330
    sent_at: list[float] = []
    while now < T0 + 330 + 5 * 3600:
        now += 300
        result = run.due(now)
        if result is not None and result.notification is not None:
            sent_at.append(now)
    assert sent_at[0] == T0 + 330 + 4 * 3600
    assert len(sent_at) == 1


def test_resolved_alert_sends_resolved_notice_then_group_empties() -> None:
    group = new_group(route(), alert(instance="a"), T0)
    run = Run(group)
    run.due(T0 + 30)
    resolved = alert(instance="a", ends_at=T0 + 100)
    group.insert(resolved, T0 + 100)
    result = run.due(T0 + 330)
    assert result is not None and result.notification is not None
    assert result.notification.status == "resolved"
    assert [a.fingerprint for a in result.notification.resolved] == [resolved.fingerprint]
    assert group.alerts == {}


def test_alert_resolved_before_first_notice_is_never_notified() -> None:
    group = new_group(route(), alert(instance="a", ends_at=T0 + 5), T0)
    result = Run(group).due(T0 + 30)
    assert result is not None and result.notification is None and group.alerts == {}


def test_silenced_alert_still_gets_resolved_notice() -> None:
    a = alert(instance="a")
    group = new_group(route(), a, T0)
    run = Run(group)
    run.due(T0 + 30)

    def silenced(x: Alert) -> bool:
        return x.fingerprint == a.fingerprint

    assert run.due(T0 + 330, silenced).notification is None  # type: ignore[union-attr]
    group.insert(replace(a, ends_at=T0 + 400), T0 + 400)
    result = run.due(T0 + 630, silenced)
    assert result is not None and result.notification is not None
    assert result.notification.status == "resolved"


def test_muted_alert_never_notified_as_firing_gets_no_resolved_notice() -> None:
    a = alert(instance="a")
    group = new_group(route(), a, T0)
    run = Run(group)
    assert run.due(T0 + 30, lambda _x: True).notification is None  # type: ignore[union-attr]
    group.insert(replace(a, ends_at=T0 + 40), T0 + 40)
    assert run.due(T0 + 330, lambda _x: True).notification is None  # type: ignore[union-attr]


def test_time_muted_route_keeps_resolved_notice_until_unmuted() -> None:
    a = alert(instance="a")
    group = new_group(route(), a, T0)
    run = Run(group)
    run.due(T0 + 30)
    group.insert(replace(a, ends_at=T0 + 40), T0 + 40)
    assert run.due(T0 + 330, time_muted=True).notification is None  # type: ignore[union-attr]
    assert a.fingerprint in group.alerts
    result = run.due(T0 + 630)
    assert result is not None and result.notification is not None and result.notification.status == "resolved"


def test_old_alert_after_restart_is_flushed_without_group_wait() -> None:
    group = new_group(route(), alert(instance="a", starts_at=T0 - 3600), T0)
    assert group.next_flush == T0


def test_needs_update_follows_alertmanager_dedup() -> None:
    fa, fb = frozenset({"a"}), frozenset({"b"})
    empty: frozenset[str] = frozenset()
    assert needs_update(None, fa, empty, T0, 3600)
    assert not needs_update(None, empty, fa, T0, 3600)
    record = NotifyRecord(fa, empty, T0)
    assert not needs_update(record, fa, empty, T0 + 10, 3600)
    assert needs_update(record, fa | fb, empty, T0 + 10, 3600)
    assert needs_update(record, empty, empty, T0 + 10, 3600)  # all resolved: clear the receiver's view
    assert needs_update(record, fa, fb, T0 + 10, 3600)
    assert not needs_update(record, fa, fb, T0 + 10, 3600, send_resolved=False)
    assert needs_update(record, fa, empty, T0 + 3600, 3600)
