"""Inhibition with `equal` (missing labels count as equal) and silence matching/states."""

from __future__ import annotations

import pytest

from nightowl.core.errors import InvalidInput
from nightowl.routing.inhibit import inhibitors, parse_inhibit_rules
from nightowl.routing.matchers import Matcher
from nightowl.routing.silences import Silence, silenced_by, validate_silence
from tests.routing.factories import T0, alert

RULES = parse_inhibit_rules(
    [
        {
            "source_matchers": ['severity="critical"'],
            "target_matchers": ['severity="warning"'],
            "equal": ["alertname", "cluster"],
        }
    ]
)


def test_critical_inhibits_warning_with_equal_labels() -> None:
    critical = alert("Down", severity="critical", cluster="eu")
    warning = alert("Down", severity="warning", cluster="eu")
    other_cluster = alert("Down", severity="warning", cluster="us")
    assert inhibitors(warning, RULES, [critical]) == [critical.fingerprint]
    assert inhibitors(other_cluster, RULES, [critical]) == []


def test_equal_label_missing_on_both_sides_counts_as_equal() -> None:
    critical = alert("Down", severity="critical")
    warning = alert("Down", severity="warning")
    assert inhibitors(warning, RULES, [critical]) == [critical.fingerprint]
    assert inhibitors(alert("Down", severity="warning", cluster="eu"), RULES, [critical]) == []


def test_alert_matching_source_and_target_does_not_inhibit_itself() -> None:
    rules = parse_inhibit_rules([{"source_match": {"a": "x"}, "target_match": {"a": "x"}}])
    only = alert(a="x")
    assert inhibitors(only, rules, [only]) == []


def test_silence_is_pending_active_then_expired() -> None:
    silence = Silence("s1", (Matcher("instance", "=~", "db-.*"),), T0 + 10, T0 + 20, "ann", "maintenance")
    db = alert(instance="db-1")
    assert [silence.state(t) for t in (T0, T0 + 10, T0 + 20)] == ["pending", "active", "expired"]
    assert silenced_by(db, [silence], T0 + 15) == ["s1"]
    assert silenced_by(alert(instance="web-1"), [silence], T0 + 15) == []
    assert silenced_by(db, [silence], T0 + 25) == []


@pytest.mark.parametrize(
    ("matchers", "ends", "by", "message"),
    [
        ((), T0 + 1, "ann", "at least one matcher"),
        ((Matcher("a", "=~", ".*"),), T0 + 1, "ann", "every alert"),
        ((Matcher("a", "=", "b"),), T0, "ann", "endsAt"),
        ((Matcher("a", "=", "b"),), T0 + 1, " ", "createdBy"),
    ],
)
def test_invalid_silences_are_rejected(matchers: tuple[Matcher, ...], ends: float, by: str, message: str) -> None:
    with pytest.raises(InvalidInput, match=message):
        validate_silence(Silence("x", matchers, T0, ends, by, "why"))
