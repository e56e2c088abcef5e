"""Series selectors as `match[]` carries them (`up{job="api"}`, `{__name__=~".+"}`) -> matchers.

Export and delete_series take selectors, not whole PromQL expressions, so a small parser is enough.
"""

from __future__ import annotations

import re

from nightowl.core.errors import InvalidInput
from nightowl.core.regex import RegexError
from nightowl.core.regex import validate as validate_regex
from nightowl.metrics.model import METRIC_NAME, Matcher, MatchOp

_NAME = re.compile(r"\s*([a-zA-Z_:][a-zA-Z0-9_:]*)\s*")
_STRING = r'"(?:[^"\\]|\\.)*"|\'(?:[^\'\\]|\\.)*\'|`[^`]*`'
_MATCHER = re.compile(rf"\s*([a-zA-Z_][a-zA-Z0-9_]*|{_STRING})\s*(?:(=~|!~|!=|=)\s*({_STRING}))?\s*(,|(?=\}}))", re.S)
_ESCAPES = {"n": "\n", "t": "\t", "r": "\r", "\\": "\\", '"': '"', "'": "'", "a": "\a", "b": "\b", "f": "\f", "v": "\v"}


def _unquote(token: str) -> str:
    if token[0] == "`":
        return token[1:-1]
    body = token[1:-1]
    if "\\" not in body:
        return body
    return re.sub(r"\\(.)", lambda m: _ESCAPES.get(m.group(1), m.group(1)), body, flags=re.S)


def parse_selector(text: str, field: str = "match[]") -> list[Matcher]:
    """Matchers of one series selector; raise InvalidInput naming `field` when it is not one."""
    matchers: list[Matcher] = []
    pos = 0
    head = _NAME.match(text)
    if head is not None:
        matchers.append(Matcher(METRIC_NAME, "=", head.group(1)))
        pos = head.end()
    rest = text[pos:].strip()
    if rest:
        if not (rest.startswith("{") and rest.endswith("}")):
            raise InvalidInput(f"invalid series selector {text!r}", field=field)
        body, at = rest[:-1], 1
        while at < len(body):
            if not body[at:].strip():
                break
            match = _MATCHER.match(body + "}", at)
            if match is None:
                raise InvalidInput(f"invalid series selector {text!r} near {body[at:]!r}", field=field)
            name, op, value = match.group(1), match.group(2), match.group(3)
            label = _unquote(name) if name[0] in "\"'`" else name
            if op is None:
                if name[0] not in "\"'`":
                    raise InvalidInput(f"invalid series selector {text!r}: {name!r} has no matcher", field=field)
                matchers.append(Matcher(METRIC_NAME, "=", label))
            else:
                matcher = Matcher(label, _op(op), _unquote(value))
                if matcher.op in ("=~", "!~"):
                    try:
                        validate_regex(matcher.value)
                    except RegexError as exc:
                        raise InvalidInput(f"invalid regex {matcher.value!r}: {exc}", field=field) from None
                matchers.append(matcher)
            at = match.end()
    if not matchers:
        raise InvalidInput(f"invalid series selector {text!r}: empty", field=field)
    if all(m.matches_empty() for m in matchers):
        raise InvalidInput(
            f"series selector {text!r} must contain at least one matcher that does not match the empty string",
            field=field,
        )
    return matchers


def _op(op: str) -> MatchOp:
    if op == "=":
        return "="
    if op == "!=":
        return "!="
    if op == "=~":
        return "=~"
    return "!~"
