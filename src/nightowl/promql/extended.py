"""Prometheus 3.x syntax promql-parser does not know, rewritten into syntax it does before parsing.

- Duration expressions (`x[5m+1m]`, `offset (1h+30m)`, `[step()]`, `min_of(step(), 1s)`) are
  evaluated to one duration literal; `step()` and `range()` are the query's, so a query is
  rewritten per evaluation.
- The `anchored`/`smoothed` modifiers wrap their selector in a marker function the evaluator
  recognises (`MARKERS`); user queries may not call those names themselves.
- An `info()` data-label selector with only empty-matching matchers (`{data=~".*"}`) gets a
  matcher on a reserved label that the evaluator removes again (`INFO_ANY`).

Everything works on tokens (`tokens.py`), so strings, comments and label matchers stay as written.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

from nightowl.promql.errors import QueryParseError
from nightowl.promql.tokens import Token, matching, opening, position, tokenize

ANCHORED = "__nightowl_anchored"
SMOOTHED = "__nightowl_smoothed"
SMOOTHED_VECTOR = "__nightowl_smoothed_vector"
MARKERS = (ANCHORED, SMOOTHED, SMOOTHED_VECTOR)
INFO_ANY = "__nightowl_info_any__"
_RESERVED = "__nightowl_"
_UNITS_MS = {"ms": 1, "s": 1000, "m": 60_000, "h": 3_600_000, "d": 86_400_000, "w": 604_800_000, "y": 31_536_000_000}
_ENDS_SELECTOR = ("]", "}", ")")


@dataclass(frozen=True)
class QueryTimes:
    """What `step()` and `range()` stand for in durations: the query's step and end - start."""

    step_ms: int = 0
    range_ms: int = 0


_SIMPLE_NUMBER = r"\s*(?:(?:\d+(?:ms|[smhdwy]))+|\d+(?:\.\d+)?)?\s*"
_SIMPLE_BRACKET = re.compile(rf"{_SIMPLE_NUMBER}(?::{_SIMPLE_NUMBER})?")
_BRACKET = re.compile(r"\[([^\]]*)\]")
_WORDS = ("offset", "anchored", "smoothed", "info", _RESERVED)


def _plain(query: str) -> bool:
    """A cheap test that nothing needs rewriting (most queries): only literal ranges and steps, no
    `offset`, modifier or info(). A false "no" only costs the tokenizer."""
    lowered = query.lower()
    if any(word in lowered for word in _WORDS):
        return False
    return all(_SIMPLE_BRACKET.fullmatch(m.group(1)) for m in _BRACKET.finditer(query))


def rewrite(query: str, times: QueryTimes) -> str:
    """`query` in the syntax promql-parser understands; the text itself when nothing needed rewriting."""
    if _plain(query):
        return query
    try:
        tokens = tokenize(query)
    except QueryParseError:
        return query  # not PromQL this tokenizer knows: promql-parser reports the error
    for token in tokens:
        if token.kind == "ident" and token.text.startswith(_RESERVED):
            raise QueryParseError(f'{position(query, token.start)}: parse error: unknown name "{token.text}"')
    changed = _durations(query, tokens, times)
    changed |= _modifiers(query, tokens)
    changed |= _info_selectors(tokens)
    if not changed:
        return query
    return " ".join(t.text for t in tokens)


def restore(text: str) -> str:
    """Printed PromQL (promql-parser's `prettify`) with the rewrites undone: marker calls back to
    `sel anchored` / `sel smoothed`, the reserved info matcher dropped."""
    try:
        tokens = tokenize(text)
    except QueryParseError:
        return text
    for i in range(len(tokens) - 1, -1, -1):
        token = tokens[i]
        if token.kind == "ident" and token.text in MARKERS and i + 1 < len(tokens) and tokens[i + 1].is_op("("):
            close = matching(tokens, i + 1)
            if close < 0:
                continue
            inner = text[tokens[i + 1].start + 1 : tokens[close].start]
            keyword = "anchored" if token.text == ANCHORED else "smoothed"
            text = text[: token.start] + inner.strip() + " " + keyword + text[tokens[close].start + 1 :]
        elif token.kind == "ident" and token.text == INFO_ANY and i + 2 < len(tokens):
            end = i + 3
            if end < len(tokens) and tokens[end].is_op(","):
                end += 1
            stop = tokens[end].start if end < len(tokens) else len(text)
            text = text[: token.start] + text[stop:]
    return text


def _duration_ms(text: str) -> int:
    total = 0
    number = ""
    i = 0
    while i < len(text):
        char = text[i]
        if char.isdigit():
            number += char
            i += 1
            continue
        unit = "ms" if text.startswith("ms", i) else char
        total += int(number) * _UNITS_MS[unit]
        number = ""
        i += len(unit)
    return total


def _literal(ms: int) -> str:
    return f"{ms}ms" if ms >= 0 else f"-{-ms}ms"


class _DurationParser:
    """Recursive descent over a duration expression, in seconds (Prometheus's float arithmetic)."""

    def __init__(self, query: str, tokens: list[Token], index: int, times: QueryTimes) -> None:
        self.query = query
        self.tokens = tokens
        self.i = index
        self.times = times

    def fail(self, message: str) -> QueryParseError:
        at = self.tokens[self.i].start if self.i < len(self.tokens) else len(self.query)
        return QueryParseError(f"{position(self.query, at)}: parse error: {message}")

    def peek(self) -> Token | None:
        return self.tokens[self.i] if self.i < len(self.tokens) else None

    def take(self, *ops: str) -> Token | None:
        token = self.peek()
        if token is not None and token.is_op(*ops):
            self.i += 1
            return token
        return None

    def expect(self, op: str) -> None:
        if self.take(op) is None:
            raise self.fail(f'unexpected token in duration expression, expected "{op}"')

    def additive(self) -> float:
        value = self.multiplicative()
        while (op := self.take("+", "-")) is not None:
            rhs = self.multiplicative()
            value = value + rhs if op.text == "+" else value - rhs
        return value

    def multiplicative(self) -> float:
        value = self.unary()
        while (op := self.take("*", "/", "%")) is not None:
            rhs = self.unary()
            if op.text == "*":
                value *= rhs
            elif rhs == 0:
                raise self.fail("division by zero" if op.text == "/" else "modulo by zero")
            elif op.text == "/":
                value /= rhs
            else:
                value = math.fmod(value, rhs)
        return value

    def unary(self) -> float:
        if (op := self.take("+", "-")) is not None:
            value = self.unary()
            return -value if op.text == "-" else value
        return self.power()

    def power(self) -> float:
        base = self.primary()
        if self.take("^") is not None:
            exponent = self.unary()
            try:
                return math.pow(base, exponent)
            except (OverflowError, ValueError):
                raise self.fail("duration is out of range") from None
        return base

    def signed_primary(self) -> float:
        """An `offset` operand: an optional sign and one primary (`offset 1m + 2` adds 2 to the vector)."""
        if (op := self.take("+", "-")) is not None:
            value = self.signed_primary()
            return -value if op.text == "-" else value
        return self.primary()

    def primary(self) -> float:
        token = self.peek()
        if token is None:
            raise self.fail("unexpected end of input in duration expression")
        self.i += 1
        if token.kind == "duration":
            return _duration_ms(token.text) / 1000.0
        if token.kind == "number":
            return float(int(token.text, 16)) if token.text.lower().startswith("0x") else float(token.text)
        if token.is_op("("):
            value = self.additive()
            self.expect(")")
            return value
        if token.is_word("step", "range"):
            self.expect("(")
            self.expect(")")
            ms = self.times.step_ms if token.text.lower() == "step" else self.times.range_ms
            return ms / 1000.0
        if token.is_word("min_of", "max_of"):
            self.expect("(")
            a = self.additive()
            self.expect(",")
            b = self.additive()
            self.expect(")")
            return min(a, b) if token.text.lower() == "min_of" else max(a, b)
        self.i -= 1
        raise self.fail(f"unexpected {token.text!r} in duration expression")


def _to_ms(parser: _DurationParser, seconds: float, positive: bool) -> int:
    if math.isnan(seconds) or abs(seconds) * 1000 > 2**63 - 1:
        raise parser.fail("duration is out of range")
    if positive and seconds <= 0:
        raise parser.fail("duration must be greater than 0")
    return int(seconds * 1000)  # Go's time.Duration(seconds*1000) truncates toward zero


def _durations(query: str, tokens: list[Token], times: QueryTimes) -> bool:
    """Replace every range, subquery step and offset that is an expression by its literal value."""
    changed = False
    i = 0
    while i < len(tokens):
        token = tokens[i]
        if token.is_op("["):
            changed |= _bracket(query, tokens, i, times)
        elif (
            token.is_word("offset")
            and i > 0
            and (_ends_operand(tokens, i - 1) or tokens[i - 1].is_word("anchored", "smoothed"))
        ):
            changed |= _offset(query, tokens, i, times)
        i += 1
    return changed


def _ends_operand(tokens: list[Token], i: int) -> bool:
    token = tokens[i]
    if token.kind == "ident":
        return not _is_keyword(token)
    return token.kind in ("duration", "number") or (token.kind == "op" and token.text in _ENDS_SELECTOR)


def _replace(tokens: list[Token], start: int, end: int, text: str) -> None:
    """tokens[start:end] becomes one duration token (or nothing, for an empty text)."""
    at = tokens[start].start if start < len(tokens) else 0
    tokens[start:end] = [Token("duration", text, at)] if text else []


def _bracket(query: str, tokens: list[Token], i: int, times: QueryTimes) -> bool:
    changed = False
    parser = _DurationParser(query, tokens, i + 1, times)
    nxt = parser.peek()
    if nxt is not None and not nxt.is_op(":"):
        end = _expression_end(tokens, i + 1)
        if end - (i + 1) > 1 or tokens[i + 1].kind not in ("duration", "number"):
            ms = _to_ms(parser, parser.additive(), positive=True)
            if parser.i != end:
                raise parser.fail("unexpected token in duration expression")
            _replace(tokens, i + 1, end, _literal(ms))
            changed = True
    colon = i + 2 if i + 2 < len(tokens) and tokens[i + 2].is_op(":") else -1
    if colon > 0 and colon + 1 < len(tokens) and not tokens[colon + 1].is_op("]"):
        end = _expression_end(tokens, colon + 1)
        if end - (colon + 1) > 1 or tokens[colon + 1].kind not in ("duration", "number"):
            step = _DurationParser(query, tokens, colon + 1, times)
            ms = _to_ms(step, step.additive(), positive=True)
            if step.i != end:
                raise step.fail("unexpected token in duration expression")
            _replace(tokens, colon + 1, end, _literal(ms))
            changed = True
    return changed


def _expression_end(tokens: list[Token], i: int) -> int:
    """Where the duration expression starting at `i` ends: the `:` or `]` at its own depth."""
    depth = 0
    for j in range(i, len(tokens)):
        token = tokens[j]
        if token.is_op("("):
            depth += 1
        elif token.is_op(")"):
            depth -= 1
        elif depth == 0 and token.is_op(":", "]"):
            return j
    return len(tokens)


def _offset(query: str, tokens: list[Token], i: int, times: QueryTimes) -> bool:
    first = i + 1
    if first >= len(tokens):
        return False
    plain = tokens[first].kind == "duration" or (
        tokens[first].is_op("-") and first + 1 < len(tokens) and tokens[first + 1].kind == "duration"
    )
    if plain:
        return False
    parser = _DurationParser(query, tokens, first, times)
    ms = _to_ms(parser, parser.signed_primary(), positive=False)
    if ms == 0:  # promql-parser rejects `offset 0s`; no offset at all means the same
        del tokens[i : parser.i]
    else:
        _replace(tokens, first, parser.i, _literal(ms))
    return True


def _modifiers(query: str, tokens: list[Token]) -> bool:
    """`sel anchored` / `sel smoothed` -> a marker call around `sel` (with its range, offset and @)."""
    changed = False
    i = 0
    while i < len(tokens):
        token = tokens[i]
        if token.is_word("anchored", "smoothed") and i > 0 and _ends_operand(tokens, i - 1):
            where = f"{position(query, token.start)}: parse error:"
            start = _selector_start(tokens, i - 1)
            if start < 0:
                if tokens[i - 1].is_op(")") and _closes_marker(tokens, i - 1):
                    raise QueryParseError(f"{where} anchored and smoothed modifiers cannot be used together")
                raise QueryParseError(f"{where} unexpected {token.text.lower()} modifier")
            ranged = tokens[i - 1].is_op("]") or any(t.is_op("[") for t in tokens[start:i])
            if any(t.is_op(":") for t in tokens[start:i]):
                raise QueryParseError(f"{where} {token.text.lower()} modifier is not supported for subqueries")
            end = _trailing_modifiers(tokens, i + 1)
            inner = tokens[start:i] + tokens[i + 1 : end]
            if token.text.lower() == "anchored":
                if not ranged:
                    raise QueryParseError(
                        f"{position(query, token.start)}: parse error: anchored modifier can only be used "
                        "with range vector selectors"
                    )
                name = ANCHORED
            else:
                name = SMOOTHED if ranged else SMOOTHED_VECTOR
            wrapped = [Token("ident", name, tokens[start].start), Token("op", "(", token.start)]
            wrapped += inner + [Token("op", ")", token.start)]
            tokens[start:end] = wrapped
            i = start + len(wrapped)
            changed = True
            continue
        i += 1
    return changed


def _closes_marker(tokens: list[Token], i: int) -> bool:
    j = opening(tokens, i)
    return j > 0 and tokens[j - 1].kind == "ident" and tokens[j - 1].text in MARKERS


def _trailing_modifiers(tokens: list[Token], i: int) -> int:
    """Past any `offset <dur>` and `@ <time>` written after the modifier keyword."""
    while i < len(tokens):
        if tokens[i].is_word("offset") and i + 1 < len(tokens):
            i += 3 if tokens[i + 1].is_op("-", "+") else 2
        elif tokens[i].is_op("@") and i + 1 < len(tokens):
            if tokens[i + 1].is_word("start", "end"):
                i += 4
            else:
                i += 3 if tokens[i + 1].is_op("-", "+") else 2
        else:
            break
    return min(i, len(tokens))


def _selector_start(tokens: list[Token], i: int) -> int:
    """Walk back from the last token of a selector (with range, offset, @) to its first token."""
    while i >= 0:
        token = tokens[i]
        before = tokens[i - 1] if i > 0 else None
        if token.is_op(")") and i >= 3 and tokens[i - 1].is_op("(") and tokens[i - 2].is_word("start", "end"):
            i -= 3
            if i > 0 and tokens[i].is_op("@"):
                i -= 1
                continue
            return -1
        if token.kind in ("duration", "number") and before is not None:
            j = i - 1
            if tokens[j].is_op("-", "+"):
                j -= 1
            if j >= 0 and (tokens[j].is_word("offset") or tokens[j].is_op("@")):
                i = j - 1
                continue
            return -1
        if token.is_op("]"):
            i = opening(tokens, i) - 1
            continue
        if token.is_op("}"):
            j = opening(tokens, i)
            if j < 0:
                return -1
            if j > 0 and tokens[j - 1].kind == "ident" and not _is_keyword(tokens[j - 1], modifiers=False):
                return j - 1
            return j
        if token.kind == "ident" and not _is_keyword(token, modifiers=False):
            return i
        return -1
    return -1


def _is_keyword(token: Token, modifiers: bool = True) -> bool:
    """Operator words; with `modifiers`, also the selector modifiers (which may otherwise be metric names)."""
    if modifiers and token.is_word("offset", "anchored", "smoothed"):
        return True
    return token.is_word("and", "or", "unless", "by", "without", "on", "ignoring", "group_left", "group_right", "bool")


def _info_selectors(tokens: list[Token]) -> bool:
    """info(v, {l=~".*"}): add a reserved matcher that matches every series, so the selector parses."""
    changed = False
    for i, token in enumerate(tokens):
        if not (token.is_word("info") and i + 1 < len(tokens) and tokens[i + 1].is_op("(")):
            continue
        close = matching(tokens, i + 1)
        depth = 0
        for j in range(i + 2, close if close > 0 else len(tokens)):
            t = tokens[j]
            if t.is_op("(", "[", "{"):
                depth += 1
            elif t.is_op(")", "]", "}"):
                depth -= 1
            elif depth == 0 and t.is_op(",") and j + 1 < len(tokens) and tokens[j + 1].is_op("{"):
                end = matching(tokens, j + 1)
                if end > 0 and _all_match_empty(tokens[j + 2 : end]):
                    extra = [
                        Token("ident", INFO_ANY, t.start),
                        Token("op", "!=", t.start),
                        Token("string", '""', t.start),
                    ]
                    if end > j + 2:
                        extra.append(Token("op", ",", t.start))
                    tokens[j + 2 : j + 2] = extra
                    changed = True
                break
    return changed


def _all_match_empty(inner: list[Token]) -> bool:
    """Whether every matcher in `{...}` may match the empty string (promql-parser then rejects it)."""
    for k, token in enumerate(inner):
        if token.kind == "op" and token.text in ("=", "!=", "=~", "!~") and k + 1 < len(inner):
            value = inner[k + 1].text[1:-1]
            if token.text == "=" and value != "":
                return False
            if token.text == "!=" and value == "":
                return False
            if token.text == "=~" and value not in (".*", ""):
                return False
            if token.text == "!~" and value in (".*", ""):
                return False
    return True
