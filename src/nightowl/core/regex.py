"""Label regexes as Prometheus and Alertmanager match them: RE2 syntax, fully anchored, `.` matching
newlines, in time linear in the input.

Python's `re` backtracks: one matcher such as `{__name__=~"(.*.*)*y"}` pins a core for minutes and,
holding the GIL, stops every other request. RE2 (the `google-re2` bindings) is the dialect PromQL
specifies and never backtracks. Every label regex — PromQL selectors and `label_replace`, the TSDB
index, relabeling, routing matchers and silences — is compiled here, once per pattern, into a cache
bounded by bytes; common shapes (`a|b|c`, `.*`, `foo.*`) are answered without the regex engine.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Mapping
from dataclasses import dataclass

import re2

CACHE_BYTES = 16 * 2**20
"""What the compiled patterns kept may cost, estimated from their program sizes."""
PATTERN_MEMORY = 2**20
"""RE2's memory budget per pattern (program plus DFA states; past it RE2 falls back to its NFA,
still linear): a pattern needing more to compile is refused."""
_ENTRY_OVERHEAD = 2048
_BYTES_PER_INSTRUCTION = 16

_META = set("\\.+*?()[]{}|^$")
_NULL = (-1, -1)
_BOTH = re2._re2.RE2.Anchor.ANCHOR_BOTH
_UNANCHORED = re2._re2.RE2.Anchor.UNANCHORED


class RegexError(ValueError):
    """A pattern RE2 does not accept; the message says why."""


@dataclass(frozen=True)
class RegexMatch:
    """The groups of a successful match: `groups[0]` is the whole value, None for a group that did not take part."""

    groups: tuple[str | None, ...]
    names: Mapping[str, int]

    def group(self, ref: int | str) -> str | None:
        index = self.names.get(ref) if isinstance(ref, str) else ref
        if index is None or not 0 <= index < len(self.groups):
            return None
        return self.groups[index]


def _utf8(text: str) -> bytes:
    """UTF-8 bytes; a lone surrogate (JSON ingest can carry one) passes through instead of raising."""
    return text.encode(errors="surrogatepass")


def _options(capture: bool) -> re2.Options:
    options = re2.Options()
    options.log_errors = False
    options.dot_nl = True
    options.never_capture = not capture
    options.max_mem = PATTERN_MEMORY
    return options


def _literal_test(pattern: str) -> Callable[[str], bool] | None:
    """A plain-Python test for the shapes dashboards send most, or None."""
    if pattern == ".*":
        return lambda value: True
    if pattern == ".+":
        return lambda value: value != ""
    body = pattern
    if body.startswith("(") and body.endswith(")") and not body.startswith("(?") and body.count("(") == 1:
        body = body[1:-1]
    if body.startswith(".*") and body.endswith(".*") and len(body) > 4 and not _META & set(body[2:-2]):
        infix = body[2:-2]
        return lambda value: infix in value
    if body.endswith(".*") and body[:-2] and not _META & set(body[:-2]):
        prefix = body[:-2]
        return lambda value: value.startswith(prefix)
    if body.startswith(".*") and body[2:] and not _META & set(body[2:]):
        suffix = body[2:]
        return lambda value: value.endswith(suffix)
    alternatives = body.split("|")
    if any(_META & set(a) for a in alternatives):
        return None
    if len(alternatives) == 1:
        only = alternatives[0]
        return lambda value: value == only
    members = frozenset(alternatives)
    return members.__contains__


class LabelRegex:
    """One pattern compiled for whole-value matching (`matches`) and, on demand, for capture groups (`match`)."""

    def __init__(self, pattern: str) -> None:
        self.pattern = pattern
        self._test = _literal_test(pattern)
        self._plain = re2._re2.RE2(_utf8(pattern), _options(capture=False))
        if not self._plain.ok():
            reason = self._plain.error()
            reason = reason.decode(errors="replace") if isinstance(reason, bytes) else str(reason)
            raise RegexError(f"invalid regular expression {pattern!r}: {reason}")
        self._capturing: re2._re2.RE2 | None = None
        self.cost = 2 * len(pattern) + _ENTRY_OVERHEAD + _BYTES_PER_INSTRUCTION * int(self._plain.ProgramSize())

    def matches(self, value: str) -> bool:
        """Whether the whole of `value` matches."""
        if self._test is not None:
            return self._test(value)
        data = _utf8(value)
        spans: list[tuple[int, int]] = self._plain.Match(_BOTH, data, 0, len(data))
        return spans[0] != _NULL

    def search(self, value: str) -> bool:
        """Whether the pattern matches anywhere in `value` (templates' `match`)."""
        data = _utf8(value)
        spans: list[tuple[int, int]] = self._plain.Match(_UNANCHORED, data, 0, len(data))
        return spans[0] != _NULL

    def match(self, value: str) -> RegexMatch | None:
        """The groups when the whole of `value` matches (for `$1` expansion), else None."""
        if self.pattern == "(.*)":  # relabeling's default regex
            return RegexMatch((value, value), {})
        if self._capturing is None:
            self._capturing = re2._re2.RE2(_utf8(self.pattern), _options(capture=True))
        regex = self._capturing
        data = _utf8(value)
        spans: list[tuple[int, int]] = regex.Match(_BOTH, data, 0, len(data))
        if spans[0] == _NULL:
            return None
        groups = tuple(None if s == _NULL else data[s[0] : s[1]].decode(errors="surrogatepass") for s in spans)
        names = {name.decode(): index for name, index in regex.NamedCapturingGroups()}
        return RegexMatch(groups, names)


_cache: OrderedDict[str, LabelRegex] = OrderedDict()
_cache_bytes = 0
_lock = threading.Lock()


def compile_regex(pattern: str) -> LabelRegex:
    """The compiled `pattern` (kept while the cache's byte budget allows); RegexError when RE2 refuses it."""
    global _cache_bytes
    with _lock:
        found = _cache.get(pattern)
        if found is not None:
            _cache.move_to_end(pattern)
            return found
    compiled = LabelRegex(pattern)
    with _lock:
        if pattern not in _cache and compiled.cost <= CACHE_BYTES:
            _cache[pattern] = compiled
            _cache_bytes += compiled.cost
            while _cache_bytes > CACHE_BYTES:
                _, dropped = _cache.popitem(last=False)
                _cache_bytes -= dropped.cost
    return compiled


def cached_bytes() -> int:
    """The estimated size of the patterns kept (for tests and telemetry)."""
    return _cache_bytes


def validate(pattern: str) -> str:
    """`pattern` itself when RE2 accepts it; RegexError otherwise (for configuration validators)."""
    compile_regex(pattern)
    return pattern


def replace_all(pattern: str, replacement: str, text: str) -> str:
    """Go's `Regexp.ReplaceAllString` (templates' `reReplaceAll`): `$1` in `replacement` is a group."""
    compile_regex(pattern)  # the same errors as everywhere else
    compiled = re2.compile(pattern, _options(capture=True))
    template = re2_template(replacement)
    result: str = compiled.sub(template, text)
    return result


def re2_template(replacement: str) -> str:
    """A Go replacement (`$1`, `${1}`, `$$`) in the `\\1` spelling the bindings expand."""
    out: list[str] = []
    i = 0
    while i < len(replacement):
        ch = replacement[i]
        if ch == "\\":
            out.append("\\\\")
        elif ch == "$" and replacement[i + 1 : i + 2] == "$":
            out.append("$")
            i += 1
        elif ch == "$":
            digits = ""
            j = i + 1
            braced = replacement[j : j + 1] == "{"
            if braced:
                j += 1
            while j < len(replacement) and replacement[j].isdigit():
                digits += replacement[j]
                j += 1
            if digits and (not braced or replacement[j : j + 1] == "}"):
                out.append(f"\\g<{digits}>")
                i = j + (1 if braced else 0)
                continue
            out.append("$")
        else:
            out.append(ch)
        i += 1
    return "".join(out)
