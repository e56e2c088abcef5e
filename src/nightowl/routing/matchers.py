"""Label matchers as Alertmanager writes them: `{a="b", c=~"d.*"}`, `a!=b`, and legacy match/match_re."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Literal

from nightowl.core.errors import InvalidInput
from nightowl.core.regex import LabelRegex, RegexError, compile_regex

Op = Literal["=", "!=", "=~", "!~"]
_OPS: tuple[Op, ...] = ("=~", "!~", "!=", "=")
_NAME = re.compile(r"[a-zA-Z_][a-zA-Z0-9_]*")


@dataclass(frozen=True)
class Matcher:
    name: str
    op: Op
    value: str
    _regex: LabelRegex | None = field(default=None, compare=False, repr=False)

    def __post_init__(self) -> None:
        if self.op in ("=~", "!~"):
            try:
                object.__setattr__(self, "_regex", compile_regex(self.value))
            except RegexError as exc:
                raise InvalidInput(f"matcher {self.name}{self.op}{self.value!r}: invalid regex: {exc}") from None

    def matches(self, labels: Mapping[str, str]) -> bool:
        """A missing label matches as the empty string (Prometheus semantics)."""
        value = labels.get(self.name, "")
        if self.op == "=":
            return value == self.value
        if self.op == "!=":
            return value != self.value
        assert self._regex is not None
        found = self._regex.matches(value)
        return found if self.op == "=~" else not found

    @property
    def is_regex(self) -> bool:
        return self.op in ("=~", "!~")

    @property
    def is_equal(self) -> bool:
        return self.op in ("=", "=~")

    def __str__(self) -> str:
        escaped = self.value.replace("\\", "\\\\").replace('"', '\\"')
        return f'{self.name}{self.op}"{escaped}"'


def matches_all(matchers: Iterable[Matcher], labels: Mapping[str, str]) -> bool:
    return all(m.matches(labels) for m in matchers)


def format_matchers(matchers: Iterable[Matcher]) -> str:
    return "{" + ",".join(str(m) for m in matchers) + "}"


def parse_matcher(text: str) -> Matcher:
    """One matcher: `name op value`, the value optionally double-quoted."""
    stripped = text.strip()
    for op in _OPS:
        position = _find_op(stripped, op)
        if position < 0:
            continue
        name = stripped[:position].strip().strip('"')
        raw = stripped[position + len(op) :].strip()
        if not _NAME.fullmatch(name):
            raise InvalidInput(f"matcher {text!r}: label name {name!r} is invalid: must match [a-zA-Z_][a-zA-Z0-9_]*")
        return Matcher(name, op, _unquote(raw, text))
    raise InvalidInput(f"matcher {text!r}: expected name=value, name!=value, name=~regex or name!~regex")


def _find_op(text: str, op: Op) -> int:
    """Position of the first operator outside the label name, preferring the two-character ones."""
    index = text.find(op)
    if index < 0:
        return -1
    first_any = min((i for i in (text.find(o) for o in _OPS) if i >= 0), default=-1)
    return index if index == first_any else -1


def _unquote(raw: str, text: str) -> str:
    if len(raw) >= 2 and raw[0] == '"' and raw[-1] == '"':
        body = raw[1:-1]
        out: list[str] = []
        escape = False
        for ch in body:
            if escape:
                out.append({"n": "\n", "t": "\t"}.get(ch, ch))
                escape = False
            elif ch == "\\":
                escape = True
            else:
                out.append(ch)
        return "".join(out)
    if raw.startswith('"'):
        raise InvalidInput(f"matcher {text!r}: unterminated quoted value")
    return raw


def _split_top_level(text: str) -> list[str]:
    parts: list[str] = []
    current: list[str] = []
    quoted = escape = False
    for ch in text:
        if escape:
            current.append(ch)
            escape = False
            continue
        if ch == "\\" and quoted:
            escape = True
            current.append(ch)
            continue
        if ch == '"':
            quoted = not quoted
        if ch == "," and not quoted:
            parts.append("".join(current))
            current = []
            continue
        current.append(ch)
    parts.append("".join(current))
    return [p for p in (p.strip() for p in parts) if p]


def parse_matchers(text: str) -> list[Matcher]:
    """`{a="b", c=~"d"}` or `a=b, c=~d`: a list of matchers (empty braces give an empty list)."""
    stripped = text.strip()
    if stripped.startswith("{"):
        if not stripped.endswith("}"):
            raise InvalidInput(f"matchers {text!r}: missing closing brace")
        stripped = stripped[1:-1]
    return [parse_matcher(part) for part in _split_top_level(stripped)]


def parse_matcher_list(items: Iterable[str]) -> list[Matcher]:
    """The `matchers:` list of alertmanager.yml: each item may itself hold several matchers."""
    result: list[Matcher] = []
    for item in items:
        result.extend(parse_matchers(str(item)))
    return result


def legacy_matchers(match: Mapping[str, str] | None, match_re: Mapping[str, str] | None) -> list[Matcher]:
    """Alertmanager's deprecated `match` (equality) and `match_re` (anchored regex) maps."""
    result = [Matcher(k, "=", str(v)) for k, v in sorted((match or {}).items())]
    result += [Matcher(k, "=~", str(v)) for k, v in sorted((match_re or {}).items())]
    return result
