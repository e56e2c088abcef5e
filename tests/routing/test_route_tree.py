"""The routing tree behaves like Alertmanager's, on the examples of its documentation."""

from __future__ import annotations

import pytest
import yaml

from nightowl.core.errors import InvalidInput
from nightowl.routing.grouping import group_key
from nightowl.routing.route import parse_route

DOC_EXAMPLE = yaml.safe_load(
    """
group_by: ['alertname', 'cluster', 'service']
group_wait: 30s
group_interval: 5m
repeat_interval: 3h
receiver: team-X-mails
routes:
- matchers: [service=~"foo1|foo2|baz"]
  receiver: team-X-mails
  routes:
  - matchers: [severity="critical"]
    receiver: team-X-pager
- matchers: [service="files"]
  receiver: team-Y-mails
  routes:
  - matchers: [severity="critical"]
    receiver: team-Y-pager
- matchers: [service="database"]
  receiver: team-DB-pager
  group_by: [alertname, cluster, database]
  routes:
  - matchers: [owner="team-X"]
    receiver: team-X-pager
    continue: true
  - matchers: [owner="team-Y"]
    receiver: team-Y-pager
"""
)


def receivers(labels: dict[str, str]) -> list[str]:
    return [r.receiver for r in parse_route(DOC_EXAMPLE).match(labels)]


@pytest.mark.parametrize(
    ("labels", "expected"),
    [
        ({"service": "foo1", "severity": "warning"}, ["team-X-mails"]),
        ({"service": "foo2", "severity": "critical"}, ["team-X-pager"]),
        ({"service": "files", "severity": "critical"}, ["team-Y-pager"]),
        ({"service": "files", "severity": "info"}, ["team-Y-mails"]),
        ({"service": "database", "owner": "team-X"}, ["team-X-pager"]),
        ({"service": "database", "owner": "team-Y"}, ["team-Y-pager"]),
        ({"service": "database", "owner": "team-Z"}, ["team-DB-pager"]),
        ({"service": "unknown"}, ["team-X-mails"]),
        ({"service": "foo10"}, ["team-X-mails"]),  # regexes are anchored: falls back to the root
    ],
)
def test_documentation_example_routes_like_alertmanager(labels: dict[str, str], expected: list[str]) -> None:
    assert receivers(labels) == expected


def test_continue_lets_an_alert_match_following_siblings() -> None:
    tree = parse_route(
        {
            "receiver": "default",
            "routes": [
                {"matchers": ['team="db"'], "receiver": "db-mail", "continue": True},
                {"matchers": ['severity="critical"'], "receiver": "pager"},
                {"matchers": ['team="db"'], "receiver": "never"},
            ],
        }
    )
    assert [r.receiver for r in tree.match({"team": "db", "severity": "critical"})] == ["db-mail", "pager"]
    assert [r.receiver for r in tree.match({"team": "db"})] == ["db-mail", "never"]


def test_children_inherit_grouping_and_timers_but_not_time_intervals() -> None:
    tree = parse_route(DOC_EXAMPLE)
    db = tree.routes[2]
    x_pager = db.routes[0]
    assert x_pager.group_by == ("alertname", "cluster", "database")
    assert (x_pager.group_wait, x_pager.group_interval, x_pager.repeat_interval) == (30, 300, 3 * 3600)
    assert tree.routes[0].routes[0].group_by == ("alertname", "cluster", "service")


def test_group_key_has_alertmanagers_format() -> None:
    tree = parse_route(DOC_EXAMPLE)
    route = tree.match({"service": "files", "severity": "critical", "alertname": "Disk"})[0]
    key = group_key(route, route.group_labels({"service": "files", "severity": "critical", "alertname": "Disk"}))
    assert key == '{}/{service="files"}/{severity="critical"}:{alertname="Disk", service="files"}'


def test_group_by_all_labels() -> None:
    tree = parse_route({"receiver": "r", "group_by": ["..."]})
    assert tree.group_labels({"a": "1", "b": "2"}) == {"a": "1", "b": "2"}


def test_legacy_match_and_match_re() -> None:
    tree = parse_route(
        {"receiver": "d", "routes": [{"match": {"team": "a"}, "match_re": {"env": "prod|stage"}, "receiver": "a"}]}
    )
    assert tree.match({"team": "a", "env": "prod"})[0].receiver == "a"
    assert tree.match({"team": "a", "env": "production"})[0].receiver == "d"


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ({}, "must name a receiver"),
        ({"receiver": "r", "matchers": ['a="b"']}, "must not have matchers"),
        ({"receiver": "r", "group_interval": "0s"}, "greater than 0"),
        ({"receiver": "r", "grop_by": ["a"]}, "unknown keys"),
        ({"receiver": "r", "routes": [{"matchers": ["1a=b"]}]}, "label name '1a' is invalid"),
        ({"receiver": "r", "group_wait": "5 minutes"}, "not a duration"),
    ],
)
def test_invalid_routes_are_named(spec: dict[str, object], message: str) -> None:
    with pytest.raises(InvalidInput, match=message):
        parse_route(spec)


LEGACY_EXAMPLE = yaml.safe_load(
    """
group_by: ['alertname', 'cluster', 'service']
receiver: team-X-mails
routes:
- match_re:
    service: ^(foo1|foo2|baz)$
  receiver: team-X-mails
  routes:
  - match:
      severity: critical
    receiver: team-X-pager
- match:
    service: files
  receiver: team-Y-mails
  routes:
  - match:
      severity: critical
    receiver: team-Y-pager
- match:
    service: database
  receiver: team-DB-pager
  group_by: [alertname, cluster, database]
  routes:
  - match:
      owner: team-X
    receiver: team-X-pager
    continue: true
  - match:
      owner: team-Y
    receiver: team-Y-pager
"""
)


@pytest.mark.parametrize(
    "labels",
    [
        {"service": "foo1", "severity": "warning"},
        {"service": "baz", "severity": "critical"},
        {"service": "files", "severity": "critical"},
        {"service": "database", "owner": "team-X"},
        {"service": "database", "owner": "team-Z"},
        {"service": "foo10"},
    ],
)
def test_legacy_match_syntax_routes_the_same(labels: dict[str, str]) -> None:
    legacy = [r.receiver for r in parse_route(LEGACY_EXAMPLE).match(labels)]
    assert legacy == receivers(labels)
