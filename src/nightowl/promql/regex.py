"""RE2 (Prometheus's regex dialect) to Python `re`: the spellings that differ."""

from __future__ import annotations

import re

from nightowl.promql.errors import QueryParseError

_INLINE_FLAGS = re.compile(r"\(\?([imsx]*(?:-[imsx]+)?)\)")


def to_python(pattern: str) -> str:
    """Inline flags like `(?i)` apply to the rest of their group in RE2; Python only allows them at the
    very start, so they become scoped groups `(?i:...)`. `\\z` is Python's `\\Z`."""
    out: list[str] = []
    closers: list[int] = [0]
    i, n, in_class = 0, len(pattern), False
    while i < n:
        c = pattern[i]
        if c == "\\":
            pair = pattern[i : i + 2]
            out.append("\\Z" if pair == "\\z" else pair)
            i += 2
            continue
        if in_class:
            in_class = c != "]"
            out.append(c)
            i += 1
            continue
        if c == "[":
            in_class = True
            out.append(c)
            i += 1
            if pattern[i : i + 1] == "^":
                out.append("^")
                i += 1
            if pattern[i : i + 1] == "]":
                out.append("]")
                i += 1
            continue
        flags = _INLINE_FLAGS.match(pattern, i)
        if flags and flags.group(1):
            out.append(f"(?{flags.group(1)}:")
            closers[-1] += 1
            i = flags.end()
            continue
        if c == "(":
            closers.append(0)
        elif c == ")" and len(closers) > 1:
            out.append(")" * closers.pop())
        out.append(c)
        i += 1
    out.append(")" * closers[0])
    return "".join(out)


def compile_anchored(pattern: str) -> re.Pattern[str]:
    """A fully anchored regex, as Prometheus matches label values; bad_data when it does not compile."""
    try:
        return re.compile(f"(?s:{to_python(pattern)})\\Z")
    except re.error as exc:
        raise QueryParseError(f"invalid regular expression {pattern!r}: {exc}") from None
