"""Duration expressions (Prometheus 3.x `promql-duration-expr`): `x[5m+1m]`, `x[2m*(10+5)]`,
`offset (1h+30m)`, `[step()]`, `min_of(step(), 1s)` evaluated to one duration literal on the token
list, so promql-parser sees plain durations. Numbers are seconds, as in Prometheus."""

from __future__ import annotations

import math
from dataclasses import dataclass

from nightowl.promql.errors import QueryParseError
from nightowl.promql.tokens import Token, ends_operand, position

_UNITS_MS = {"ms": 1, "s": 1000, "m": 60_000, "h": 3_600_000, "d": 86_400_000, "w": 604_800_000, "y": 31_536_000_000}


@dataclass(frozen=True)
class QueryTimes:
    """What `step()` and `range()` stand for in durations: the query's step and end - start."""

    step_ms: int = 0
    range_ms: int = 0


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


def rewrite_durations(query: str, tokens: list[Token], times: QueryTimes) -> bool:
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
            and (ends_operand(tokens, i - 1) or tokens[i - 1].is_word("anchored", "smoothed"))
        ):
            changed |= _offset(query, tokens, i, times)
        i += 1
    return changed


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
