"""The simulator on a virtual clock: time intervals, silences and repeats, as the dispatcher would do them."""

from __future__ import annotations

from datetime import UTC, datetime

from nightowl.routing.alert import Alert
from nightowl.routing.config import parse_alertmanager_config
from nightowl.routing.matchers import Matcher
from nightowl.routing.router import TimedAlert, simulate
from nightowl.routing.silences import Silence

CONFIG = parse_alertmanager_config(
    """
route:
  receiver: mail
  group_by: [alertname]
  group_wait: 30s
  group_interval: 5m
  repeat_interval: 1h
  routes:
  - matchers: [team="web"]
    receiver: web-pager
    mute_time_intervals: [weekend]
  - matchers: [team="night"]
    receiver: night-pager
    active_time_intervals: [nights]
time_intervals:
- name: weekend
  time_intervals: [{weekdays: [saturday, sunday]}]
- name: nights
  time_intervals: [{times: [{start_time: "22:00", end_time: "24:00"}]}]
receivers: [{name: mail}, {name: web-pager}, {name: night-pager}]
"""
)

FRIDAY_2330 = datetime(2024, 3, 8, 23, 30, tzinfo=UTC).timestamp()


def arrive(at: float, **labels: str) -> TimedAlert:
    return TimedAlert(at, Alert({"alertname": "X", **labels}, starts_at=at, updated_at=at))


def test_mute_time_interval_holds_notifications_until_it_ends() -> None:
    sent = simulate(CONFIG, [arrive(FRIDAY_2330, team="web")], [], FRIDAY_2330 + 3 * 86400)
    first = sent[0][0]
    # muted from Saturday 00:00 until Monday 00:00 (group_wait ended 23:30:30 on Friday: that one goes out)
    assert first == FRIDAY_2330 + 30
    later = [t for t, _ in sent[1:]]
    monday = datetime(2024, 3, 11, tzinfo=UTC).timestamp()
    assert later and all(t >= monday for t in later)


def test_active_time_interval_only_notifies_inside_it() -> None:
    noon = datetime(2024, 3, 8, 12, 0, tzinfo=UTC).timestamp()
    sent = simulate(CONFIG, [arrive(noon, team="night")], [], noon + 12 * 3600)
    # the first flush inside 22:00-24:00, then one repeat (1h) while still inside; nothing after midnight
    assert [datetime.fromtimestamp(t, UTC).hour for t, _ in sent] == [22, 23]


def test_silence_then_expiry_releases_the_notification() -> None:
    t0 = 1_700_000_000.0
    silence = Silence("s", (Matcher("alertname", "=", "X"),), t0, t0 + 600, "ann", "deploy")
    sent = simulate(CONFIG, [arrive(t0)], [silence], t0 + 3600)
    assert sent[0][0] == t0 + 30 + 600  # the first flush after the silence ended (every 5m)
    assert sent[0][1].notification is not None and sent[0][1].notification.receiver == "mail"


def test_simulation_is_bounded() -> None:
    config = parse_alertmanager_config(
        "route: {receiver: a, group_wait: 0s, group_interval: 1ms}\nreceivers: [{name: a}]"
    )
    t0 = 1_700_000_000.0
    sent = simulate(config, [arrive(t0)], [], t0 + 7 * 86400, max_steps=1000)
    assert len(sent) <= 1000
