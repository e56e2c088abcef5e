"""Threshold rules, for people who do not write PromQL: metric + label filters, a condition and a
threshold (optionally warning and critical thresholds in one rule), compiled to Prometheus alerting rules
and evaluated by the same engine and lifecycle as rule files."""

from __future__ import annotations

import re
from typing import Any, Literal

from pydantic import BaseModel, Field, field_validator

from nightowl.alerting.rules import RuleGroup, parse_group
from nightowl.routing.durations import parse_duration

Condition = Literal["gt", "gte", "lt", "lte", "eq", "neq"]
Severity = Literal["critical", "error", "warning", "info"]
OPERATORS = {"gt": ">", "gte": ">=", "lt": "<", "lte": "<=", "eq": "==", "neq": "!="}
SOURCE = "threshold"
_METRIC = re.compile(r"^[a-zA-Z_:][a-zA-Z0-9_:]*$")
_LABEL = re.compile(r"^[a-zA-Z_][a-zA-Z0-9_]*$")


class Filter(BaseModel):
    label: str = Field(..., description="Label name.")
    op: Literal["=", "!=", "=~", "!~"] = "="
    value: str = ""

    @field_validator("label")
    @classmethod
    def _label(cls, value: str) -> str:
        if not _LABEL.match(value):
            raise ValueError(f"{value!r} is not a label name")
        return value


class ThresholdRule(BaseModel):
    """What the API accepts and stores; `id` is given by the path."""

    name: str = Field(..., min_length=1, max_length=200, description="Becomes the alertname.")
    metric: str = Field(..., description="Metric name, e.g. node_load1.")
    filters: list[Filter] = Field([], description="Label filters.")
    condition: Condition = "gt"
    threshold: float | None = Field(None, description="One threshold, with `severity`.")
    warning: float | None = Field(None, description="Warning threshold (with `critical`, one rule, two levels).")
    critical: float | None = Field(None, description="Critical threshold.")
    duration: str = Field("0s", description="How long the condition must hold before firing (Prometheus `for`).")
    severity: Severity = "warning"
    channels: list[str] = Field([], description="Channels (receivers) to notify; a `channels` label.")
    cooldown: str = Field("0s", description="Keep firing this long after the condition clears (keep_firing_for).")
    tags: list[str] = Field([], description="Free tags; a `tags` label.")
    no_data: Literal["ok", "alerting"] = Field("ok", description="`alerting`: fire a `<name>NoData` alert too.")
    description: str = ""
    enabled: bool = True

    @field_validator("metric")
    @classmethod
    def _metric(cls, value: str) -> str:
        if not _METRIC.match(value):
            raise ValueError(f"{value!r} is not a metric name")
        return value

    @field_validator("name")
    @classmethod
    def _name(cls, value: str) -> str:
        if not _LABEL.match(value.replace("-", "_")):
            raise ValueError("use letters, digits, _ and - only")
        return value

    @field_validator("duration", "cooldown")
    @classmethod
    def _duration(cls, value: str) -> str:
        parse_duration(value, "duration")
        return value

    def levels(self) -> list[tuple[str, float]]:
        """(severity, threshold) pairs, the most severe first."""
        if self.warning is None and self.critical is None:
            if self.threshold is None:
                raise ValueError("set `threshold`, or `warning` and/or `critical`")
            return [(self.severity, self.threshold)]
        if self.threshold is not None:
            raise ValueError("set either `threshold` or `warning`/`critical`, not both")
        out = []
        if self.critical is not None:
            out.append(("critical", self.critical))
        if self.warning is not None:
            out.append(("warning", self.warning))
        return out


def selector(rule: ThresholdRule) -> str:
    parts = [f'{f.label}{f.op}"{_quote(f.value)}"' for f in rule.filters]
    return rule.metric + ("{" + ", ".join(parts) + "}" if parts else "")


def _number(value: float) -> str:
    return str(int(value)) if value.is_integer() and abs(value) < 1e15 else repr(value)


def _quote(value: str) -> str:
    return value.replace("\\", "\\\\").replace('"', '\\"')


def compile_rule(rule_id: str, rule: ThresholdRule, interval_s: float) -> RuleGroup:
    """The rule as one Prometheus rule group (`threshold:<id>`); ValueError for inconsistent thresholds."""
    sel = selector(rule)
    op = OPERATORS[rule.condition]
    levels = rule.levels()
    labels: dict[str, str] = {"rule_id": rule_id}
    if rule.channels:
        labels["channels"] = ",".join(rule.channels)
    if rule.tags:
        labels["tags"] = ",".join(rule.tags)
    summary = f"{rule.metric} is {{{{ $value | humanize }}}} ({op} %s)"
    rules: list[dict[str, Any]] = []
    for i, (severity, value) in enumerate(levels):
        expr = f"{sel} {op} {_number(value)}"
        if i > 0:  # a lower level does not fire while a higher one does
            higher = levels[i - 1][1]
            expr = f"({expr}) unless ({sel} {op} {_number(higher)})"
        rules.append(
            {
                "alert": rule.name,
                "expr": expr,
                "for": rule.duration,
                "keep_firing_for": rule.cooldown,
                "labels": {**labels, "severity": severity},
                "annotations": {"summary": summary % _number(value), "description": rule.description},
            }
        )
    if rule.no_data == "alerting":
        rules.append(
            {
                "alert": f"{rule.name}NoData",
                "expr": f"absent({sel})",
                "for": rule.duration,
                "labels": {**labels, "severity": levels[0][0]},
                "annotations": {"summary": f"no data for {sel}"},
            }
        )
    data = {"name": f"{SOURCE}:{rule_id}", "interval": f"{max(1, round(interval_s))}s", "rules": rules}
    return parse_group(data, SOURCE, f"threshold rule {rule_id}")
