"""The routing tree: which routes (and so which receivers, with which timers) an alert goes to.

Semantics follow Alertmanager: an alert enters the root, descends depth-first into the first child
that matches; `continue: true` lets it try the following siblings too; a node whose children all fail
to match handles the alert itself. Children inherit their parent's receiver, grouping and timers,
but not its time intervals.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from nightowl.core.errors import InvalidInput
from nightowl.routing.durations import parse_duration
from nightowl.routing.matchers import Matcher, format_matchers, legacy_matchers, matches_all, parse_matcher_list

DEFAULT_GROUP_WAIT = 30.0
DEFAULT_GROUP_INTERVAL = 300.0
DEFAULT_REPEAT_INTERVAL = 4 * 3600.0
GROUP_BY_ALL = "..."

_ROUTE_KEYS = {
    "receiver",
    "group_by",
    "continue",
    "matchers",
    "match",
    "match_re",
    "group_wait",
    "group_interval",
    "repeat_interval",
    "mute_time_intervals",
    "active_time_intervals",
    "routes",
}


@dataclass
class Route:
    receiver: str
    matchers: list[Matcher] = field(default_factory=list)
    group_by: tuple[str, ...] = ()
    group_by_all: bool = False
    group_wait: float = DEFAULT_GROUP_WAIT
    group_interval: float = DEFAULT_GROUP_INTERVAL
    repeat_interval: float = DEFAULT_REPEAT_INTERVAL
    continue_: bool = False
    mute_time_intervals: tuple[str, ...] = ()
    active_time_intervals: tuple[str, ...] = ()
    routes: list[Route] = field(default_factory=list)
    key: str = "{}"
    id: str = "{}"

    def match(self, labels: Mapping[str, str]) -> list[Route]:
        """The routes that handle an alert with these labels, in tree order (empty if none)."""
        if not matches_all(self.matchers, labels):
            return []
        found: list[Route] = []
        for child in self.routes:
            matched = child.match(labels)
            found.extend(matched)
            if matched and not child.continue_:
                break
        return found or [self]

    def walk(self) -> list[Route]:
        out = [self]
        for child in self.routes:
            out.extend(child.walk())
        return out

    def group_labels(self, labels: Mapping[str, str]) -> dict[str, str]:
        if self.group_by_all:
            return dict(labels)
        return {name: labels[name] for name in self.group_by if name in labels}

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "receiver": self.receiver,
            "matchers": [str(m) for m in self.matchers],
            "group_by": [GROUP_BY_ALL] if self.group_by_all else list(self.group_by),
            "group_wait": self.group_wait,
            "group_interval": self.group_interval,
            "repeat_interval": self.repeat_interval,
            "continue": self.continue_,
            "mute_time_intervals": list(self.mute_time_intervals),
            "active_time_intervals": list(self.active_time_intervals),
            "routes": [child.to_dict() for child in self.routes],
        }


def _positive(spec: Mapping[str, Any], key: str, inherited: float, where: str) -> float:
    if key not in spec or spec[key] is None:
        return inherited
    value = parse_duration(spec[key], f"{where}.{key}")
    if value <= 0 and key != "group_wait":
        raise InvalidInput(f"{where}.{key} must be greater than 0", field=f"{where}.{key}")
    return value


def parse_route(spec: Mapping[str, Any], parent: Route | None = None, index: int = 0, where: str = "route") -> Route:
    """Build a route (and its children) from the alertmanager.yml mapping, applying inheritance."""
    unknown = set(spec) - _ROUTE_KEYS
    if unknown:
        raise InvalidInput(f"{where}: unknown keys {sorted(unknown)}", field=where)
    matchers = legacy_matchers(spec.get("match"), spec.get("match_re"))
    matchers += parse_matcher_list(spec.get("matchers") or [])
    receiver = spec.get("receiver") or (parent.receiver if parent else "")
    if not receiver:
        raise InvalidInput(f"{where}: the root route must name a receiver", field=f"{where}.receiver")
    if parent is None and matchers:
        raise InvalidInput(f"{where}: the root route must not have matchers", field=where)
    if "group_by" in spec and spec["group_by"] is not None:
        group_by = [str(name) for name in spec["group_by"]]
        group_by_all = GROUP_BY_ALL in group_by
        if group_by_all and len(group_by) > 1:
            raise InvalidInput(f"{where}.group_by: '...' must be the only entry", field=f"{where}.group_by")
        group_by_names: tuple[str, ...] = () if group_by_all else tuple(dict.fromkeys(group_by))
    else:
        group_by_names = parent.group_by if parent else ()
        group_by_all = parent.group_by_all if parent else False
    mute = tuple(str(n) for n in spec.get("mute_time_intervals") or [])
    active = tuple(str(n) for n in spec.get("active_time_intervals") or [])
    if parent is None and (mute or active):
        raise InvalidInput(f"{where}: the root route cannot have time intervals", field=where)
    key = format_matchers(matchers) if parent is None else f"{parent.key}/{format_matchers(matchers)}"
    route = Route(
        receiver=str(receiver),
        matchers=matchers,
        group_by=group_by_names,
        group_by_all=group_by_all,
        group_wait=_positive(spec, "group_wait", parent.group_wait if parent else DEFAULT_GROUP_WAIT, where),
        group_interval=_positive(
            spec, "group_interval", parent.group_interval if parent else DEFAULT_GROUP_INTERVAL, where
        ),
        repeat_interval=_positive(
            spec, "repeat_interval", parent.repeat_interval if parent else DEFAULT_REPEAT_INTERVAL, where
        ),
        continue_=bool(spec.get("continue", False)),
        mute_time_intervals=mute,
        active_time_intervals=active,
        key=key,
        id=key if parent is None else f"{parent.id}/{format_matchers(matchers)}/{index}",
    )
    route.routes = [
        parse_route(child, route, i, f"{where}.routes[{i}]") for i, child in enumerate(spec.get("routes") or [])
    ]
    return route
