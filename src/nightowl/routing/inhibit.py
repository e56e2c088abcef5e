"""Inhibition: a firing source alert mutes target alerts that share the `equal` labels."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from nightowl.core.errors import InvalidInput
from nightowl.routing.alert import Alert
from nightowl.routing.matchers import Matcher, legacy_matchers, matches_all, parse_matcher_list


@dataclass(frozen=True)
class InhibitRule:
    source: tuple[Matcher, ...]
    target: tuple[Matcher, ...]
    equal: tuple[str, ...] = ()

    def inhibited_by(self, alert: Alert, firing: Iterable[Alert]) -> str | None:
        """The fingerprint of a firing source alert that inhibits `alert`, if any.

        `equal` labels missing from both alerts count as equal (both empty), as in Alertmanager;
        an alert matching both sides never inhibits itself.
        """
        if not matches_all(self.target, alert.labels):
            return None
        for source in firing:
            if source.fingerprint == alert.fingerprint or not matches_all(self.source, source.labels):
                continue
            if all(source.labels.get(n, "") == alert.labels.get(n, "") for n in self.equal):
                return source.fingerprint
        return None


def inhibitors(alert: Alert, rules: Sequence[InhibitRule], firing: Sequence[Alert]) -> list[str]:
    """Fingerprints of the alerts inhibiting `alert` (one per rule that applies)."""
    found: list[str] = []
    for rule in rules:
        by = rule.inhibited_by(alert, firing)
        if by is not None and by not in found:
            found.append(by)
    return found


def parse_inhibit_rules(items: Sequence[Mapping[str, Any]]) -> list[InhibitRule]:
    rules: list[InhibitRule] = []
    allowed = {"source_matchers", "target_matchers", "source_match", "source_match_re", "target_match"}
    allowed |= {"target_match_re", "equal"}
    for i, item in enumerate(items):
        where = f"inhibit_rules[{i}]"
        unknown = set(item) - allowed
        if unknown:
            raise InvalidInput(f"{where}: unknown keys {sorted(unknown)}", field=where)
        source = legacy_matchers(item.get("source_match"), item.get("source_match_re"))
        source += parse_matcher_list(item.get("source_matchers") or [])
        target = legacy_matchers(item.get("target_match"), item.get("target_match_re"))
        target += parse_matcher_list(item.get("target_matchers") or [])
        rules.append(InhibitRule(tuple(source), tuple(target), tuple(str(n) for n in item.get("equal") or [])))
    return rules
