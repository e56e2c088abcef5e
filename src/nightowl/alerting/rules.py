"""The Prometheus rule file model (groups of alerting and recording rules) and its loader."""

from __future__ import annotations

import glob
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from nightowl.alerting.templating import Template, compile_template
from nightowl.core.errors import InvalidInput
from nightowl.promql.errors import QueryParseError
from nightowl.promql.parse import parse
from nightowl.routing.durations import parse_duration

_METRIC_NAME = re.compile(r"^[a-zA-Z_:][a-zA-Z0-9_:]*$")
_LABEL_NAME = re.compile(r"^[a-zA-Z_][a-zA-Z0-9_]*$")
MAX_QUERY_LENGTH = 100_000


@dataclass(frozen=True)
class Rule:
    """One rule: `alert` names an alerting rule, `record` a recording rule (exactly one is set)."""

    expr: str
    alert: str = ""
    record: str = ""
    for_s: float = 0.0
    keep_firing_for_s: float = 0.0
    labels: dict[str, str] = field(default_factory=dict)
    annotations: dict[str, str] = field(default_factory=dict)
    templates: dict[str, Template] = field(default_factory=dict, compare=False, repr=False)

    @property
    def name(self) -> str:
        return self.alert or self.record

    @property
    def kind(self) -> str:
        return "alerting" if self.alert else "recording"


@dataclass(frozen=True)
class RuleGroup:
    name: str
    file: str
    rules: tuple[Rule, ...]
    interval_s: float = 0.0
    limit: int = 0
    labels: dict[str, str] = field(default_factory=dict)

    @property
    def key(self) -> str:
        """Groups are identified by file and name, as in Prometheus."""
        return f"{self.file};{self.name}"


def _duration(value: Any, where: str) -> float:
    if value is None:
        return 0.0
    return parse_duration(str(value), field=where)


def _string_map(value: Any, where: str) -> dict[str, str]:
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise InvalidInput(f"{where}: must be a mapping", field=where)
    return {str(k): "" if v is None else str(v) for k, v in value.items()}


def parse_rule(data: Any, where: str) -> Rule:
    if not isinstance(data, dict):
        raise InvalidInput(f"{where}: a rule must be a mapping", field=where)
    known = {"alert", "record", "expr", "for", "keep_firing_for", "labels", "annotations"}
    unknown = sorted(set(data) - known)
    if unknown:
        raise InvalidInput(f"{where}: unknown field(s) {', '.join(unknown)}", field=where)
    alert, record = str(data.get("alert") or ""), str(data.get("record") or "")
    if bool(alert) == bool(record):
        raise InvalidInput(f"{where}: set exactly one of 'alert' and 'record'", field=where)
    expr = str(data.get("expr") or "").strip()
    if not expr:
        raise InvalidInput(f"{where}: 'expr' is required", field=f"{where}.expr")
    try:
        parse(expr, MAX_QUERY_LENGTH)
    except QueryParseError as exc:
        raise InvalidInput(f"{where}: expr: {exc}", field=f"{where}.expr") from None
    labels = _string_map(data.get("labels"), f"{where}.labels")
    annotations = _string_map(data.get("annotations"), f"{where}.annotations")
    for name in labels:
        if not _LABEL_NAME.match(name) or name == "__name__":
            raise InvalidInput(f"{where}: invalid label name {name!r}", field=f"{where}.labels")
    if record:
        if not _METRIC_NAME.match(record):
            raise InvalidInput(f"{where}: invalid recording rule name {record!r}", field=f"{where}.record")
        for key in ("for", "keep_firing_for", "annotations"):
            if data.get(key) is not None:
                raise InvalidInput(f"{where}: '{key}' is only for alerting rules", field=f"{where}.{key}")
    templates: dict[str, Template] = {}
    for kind, values in (("labels", labels), ("annotations", annotations)):
        for key, text in values.items():
            try:
                templates[f"{kind}.{key}"] = compile_template(text)
            except ValueError as exc:
                raise InvalidInput(f"{where}: {kind}.{key}: {exc}", field=f"{where}.{kind}.{key}") from None
    return Rule(
        expr=expr,
        alert=alert,
        record=record,
        for_s=_duration(data.get("for"), f"{where}.for"),
        keep_firing_for_s=_duration(data.get("keep_firing_for"), f"{where}.keep_firing_for"),
        labels=labels,
        annotations=annotations,
        templates=templates,
    )


def parse_group(data: Any, file: str, where: str) -> RuleGroup:
    if not isinstance(data, dict):
        raise InvalidInput(f"{where}: a group must be a mapping", field=where)
    known = {"name", "interval", "rules", "limit", "labels", "query_offset"}
    unknown = sorted(set(data) - known)
    if unknown:
        raise InvalidInput(f"{where}: unknown field(s) {', '.join(unknown)}", field=where)
    name = str(data.get("name") or "")
    if not name:
        raise InvalidInput(f"{where}: group 'name' is required", field=f"{where}.name")
    raw_rules = data.get("rules") or []
    if not isinstance(raw_rules, list):
        raise InvalidInput(f"{where}: 'rules' must be a list", field=f"{where}.rules")
    rules = tuple(parse_rule(r, f"{where} ({name}) rule {i}") for i, r in enumerate(raw_rules))
    return RuleGroup(
        name=name,
        file=file,
        rules=rules,
        interval_s=_duration(data.get("interval"), f"{where}.interval"),
        limit=int(data.get("limit") or 0),
        labels=_string_map(data.get("labels"), f"{where}.labels"),
    )


def parse_rule_file(text: str, file: str) -> list[RuleGroup]:
    """The groups of one rule file; InvalidInput naming the group/rule for anything wrong."""
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise InvalidInput(f"{file}: not valid YAML: {exc}", field="file") from None
    if data is None:
        return []
    if not isinstance(data, dict) or set(data) - {"groups"}:
        raise InvalidInput(f"{file}: a rule file has one top-level key, 'groups'", field="file")
    raw = data.get("groups") or []
    if not isinstance(raw, list):
        raise InvalidInput(f"{file}: 'groups' must be a list", field="groups")
    groups = []
    for i, group in enumerate(raw):
        where = f"{file}: group {i}"
        try:
            groups.append(parse_group(group, file, where))
        except (TypeError, AttributeError, ValueError, KeyError) as exc:
            # a field of the wrong shape (a list where a number belongs...): the group it is in, not a 500
            raise InvalidInput(f"{where}: a field has the wrong type ({exc})", field="groups") from None
    seen: set[str] = set()
    for group in groups:
        if group.name in seen:
            raise InvalidInput(f"{file}: group name {group.name!r} is repeated", field="groups")
        seen.add(group.name)
    return groups


def expand_rule_files(patterns: Sequence[str], base: Path | None = None) -> list[Path]:
    """The files `rule_files` globs name, sorted, relative patterns taken from `base`."""
    found: set[Path] = set()
    for pattern in patterns:
        full = pattern if base is None or Path(pattern).is_absolute() else str(base / pattern)
        found.update(Path(p) for p in glob.glob(full) if Path(p).is_file())
    return sorted(found)


def load_rule_files(patterns: Sequence[str], base: Path | None = None) -> list[RuleGroup]:
    groups: list[RuleGroup] = []
    for path in expand_rule_files(patterns, base):
        groups.extend(parse_rule_file(path.read_text(encoding="utf-8"), str(path)))
    return groups


def dump_groups(groups: Sequence[RuleGroup]) -> str:
    """YAML export in the rule file format."""
    out: list[dict[str, Any]] = []
    for group in groups:
        g: dict[str, Any] = {"name": group.name}
        if group.interval_s:
            g["interval"] = f"{int(group.interval_s)}s"
        if group.labels:
            g["labels"] = dict(group.labels)
        g["rules"] = [rule_dict(r) for r in group.rules]
        out.append(g)
    return yaml.safe_dump({"groups": out}, sort_keys=False)


def rule_dict(rule: Rule) -> dict[str, Any]:
    d: dict[str, Any] = {"alert": rule.alert} if rule.alert else {"record": rule.record}
    d["expr"] = rule.expr
    if rule.for_s:
        d["for"] = f"{int(rule.for_s)}s"
    if rule.keep_firing_for_s:
        d["keep_firing_for"] = f"{int(rule.keep_firing_for_s)}s"
    if rule.labels:
        d["labels"] = dict(rule.labels)
    if rule.annotations:
        d["annotations"] = dict(rule.annotations)
    return d
