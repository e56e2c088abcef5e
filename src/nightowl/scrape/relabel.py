"""Prometheus relabeling: an ordered list of rules rewrites a label set, or drops it.

The same engine serves `relabel_configs` (on targets, before the scrape) and `metric_relabel_configs`
(on each scraped series). Regexes are fully anchored; `$1`, `${1}`, `$name` and `${name}` in
`replacement` and `target_label` expand as Go's `Regexp.Expand` does, which is what Prometheus uses:
`$1x` names a group `1x` (which does not exist, so it expands to ""), hence `${1}x`.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Sequence
from dataclasses import dataclass

from nightowl.core.regex import LabelRegex, RegexMatch, compile_regex
from nightowl.scrape.config import LABEL_NAME, RelabelAction, RelabelConfig

_TEMPLATE = re.compile(r"\$(?:\$|\{([A-Za-z0-9_]*)\}|([A-Za-z0-9_]+))")

TemplatePart = str | int
"""A literal (str) or a group reference: an int index or, for a named group, a str prefixed by NUL."""


def _compile_template(template: str) -> tuple[TemplatePart, ...] | str:
    """A template without `$` stays a plain string, so the common rule costs nothing to expand."""
    if "$" not in template:
        return template
    parts: list[TemplatePart] = []
    pos = 0
    for match in _TEMPLATE.finditer(template):
        parts.append(template[pos : match.start()])
        name = match.group(1) if match.group(1) is not None else match.group(2)
        if name is None:
            parts.append("$")
        elif name.isdigit():
            parts.append(int(name))
        else:
            parts.append("\0" + name)
        pos = match.end()
    parts.append(template[pos:])
    return tuple(p for p in parts if p != "")


def _expand(template: tuple[TemplatePart, ...] | str, match: RegexMatch) -> str:
    if isinstance(template, str):
        return template
    out: list[str] = []
    for part in template:
        if isinstance(part, int):
            group = match.group(part)
        elif part.startswith("\0"):
            group = match.group(part[1:])
        else:
            out.append(part)
            continue
        out.append(group or "")
    return "".join(out)


@dataclass(frozen=True)
class Rule:
    """A `RelabelConfig` compiled once: the anchored regex and the pre-split templates."""

    action: RelabelAction
    source_labels: tuple[str, ...]
    separator: str
    regex: LabelRegex
    target: tuple[TemplatePart, ...] | str
    target_label: str
    replacement: tuple[TemplatePart, ...] | str
    modulus: int

    @classmethod
    def compile(cls, config: RelabelConfig) -> Rule:
        return cls(
            action=config.action,
            source_labels=tuple(config.source_labels),
            separator=config.separator,
            regex=compile_regex(config.regex),
            target=_compile_template(config.target_label),
            target_label=config.target_label,
            replacement=_compile_template(config.replacement),
            modulus=config.modulus,
        )


def compile_rules(configs: Sequence[RelabelConfig]) -> tuple[Rule, ...]:
    return tuple(Rule.compile(c) for c in configs)


def hashmod(value: str, modulus: int) -> int:
    """Prometheus's hashmod: the last 8 bytes of the MD5 digest, big-endian, modulo `modulus`."""
    digest = hashlib.md5(value.encode(), usedforsecurity=False).digest()
    return int.from_bytes(digest[8:], "big") % modulus


def _apply(labels: dict[str, str], rule: Rule) -> bool:
    """Apply one rule in place; False means the label set is dropped."""
    action = rule.action
    if action in ("labelmap", "labeldrop", "labelkeep"):
        matches = rule.regex.matches
        if action == "labeldrop":
            for name in [n for n in labels if matches(n)]:
                del labels[name]
        elif action == "labelkeep":
            for name in [n for n in labels if not matches(n)]:
                del labels[name]
        else:
            for name, value in list(labels.items()):
                match = rule.regex.match(name)
                if match is not None:
                    labels[_expand(rule.replacement, match)] = value
        return True
    value = rule.separator.join(labels.get(name, "") for name in rule.source_labels)
    if action == "replace":
        match = rule.regex.match(value)
        if match is None:
            return True
        target = _expand(rule.target, match)
        result = _expand(rule.replacement, match)
        if not LABEL_NAME.match(target) or not result:
            # Prometheus deletes the configured (unexpanded) target_label in both cases.
            labels.pop(rule.target_label, None)
        else:
            labels[target] = result
        return True
    if action == "keep":
        return rule.regex.matches(value)
    if action == "drop":
        return not rule.regex.matches(value)
    if action == "keepequal":
        return labels.get(rule.target_label, "") == value
    if action == "dropequal":
        return labels.get(rule.target_label, "") != value
    if action == "hashmod":
        labels[rule.target_label] = str(hashmod(value, rule.modulus))
    elif action == "lowercase":
        labels[rule.target_label] = value.lower()
    elif action == "uppercase":
        labels[rule.target_label] = value.upper()
    return True


def relabel(labels: dict[str, str], rules: Sequence[Rule]) -> dict[str, str] | None:
    """The rewritten label set (a new dict), or None when a rule dropped it."""
    out = dict(labels)
    for rule in rules:
        if not _apply(out, rule):
            return None
    return out
