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

import re

from nightowl.promql.durations import QueryTimes, rewrite_durations
from nightowl.promql.errors import QueryParseError
from nightowl.promql.tokens import Token, ends_operand, is_keyword, matching, opening, position, tokenize

ANCHORED = "__nightowl_anchored"
SMOOTHED = "__nightowl_smoothed"
SMOOTHED_VECTOR = "__nightowl_smoothed_vector"
MARKERS = (ANCHORED, SMOOTHED, SMOOTHED_VECTOR)
INFO_ANY = "__nightowl_info_any__"
_RESERVED = "__nightowl_"


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
    changed = rewrite_durations(query, tokens, times)
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


def _modifiers(query: str, tokens: list[Token]) -> bool:
    """`sel anchored` / `sel smoothed` -> a marker call around `sel` (with its range, offset and @)."""
    changed = False
    i = 0
    while i < len(tokens):
        token = tokens[i]
        if token.is_word("anchored", "smoothed") and i > 0 and ends_operand(tokens, i - 1):
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
            if j > 0 and tokens[j - 1].kind == "ident" and not is_keyword(tokens[j - 1], modifiers=False):
                return j - 1
            return j
        if token.kind == "ident" and not is_keyword(token, modifiers=False):
            return i
        return -1
    return -1


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
