"""A PromQL tokenizer, enough to rewrite query text safely: strings, comments and label matchers
come out as whole tokens, so rewrites never touch what sits inside them."""

from __future__ import annotations

import re
from dataclasses import dataclass

from nightowl.promql.errors import QueryParseError

ENDS_SELECTOR = ("]", "}", ")")

_TOKEN = re.compile(
    r"""
    (?P<space>\s+)
  | (?P<comment>\#[^\n]*)
  | (?P<string>"(?:[^"\\\n]|\\.)*"|'(?:[^'\\\n]|\\.)*'|`[^`]*`)
  | (?P<duration>(?:\d+(?:ms|[smhdwy]))+(?![\w.]))
  | (?P<number>0[xX][0-9a-fA-F]+|(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?)
  | (?P<ident>[A-Za-z_][A-Za-z0-9_:]*)
  | (?P<op>==|!=|>=|<=|=~|!~|[-+*/%^=<>@(){}\[\],:])
    """,
    re.VERBOSE,
)


@dataclass(frozen=True)
class Token:
    kind: str  # string, duration, number, ident, op
    text: str
    start: int

    def is_op(self, *texts: str) -> bool:
        return self.kind == "op" and self.text in texts

    def is_word(self, *words: str) -> bool:
        return self.kind == "ident" and self.text.lower() in words


def tokenize(query: str) -> list[Token]:
    """The tokens of `query` without whitespace and comments; QueryParseError on a character PromQL
    does not know or an unterminated string."""
    out: list[Token] = []
    pos = 0
    while pos < len(query):
        match = _TOKEN.match(query, pos)
        if match is None or match.end() == pos:
            char = query[pos]
            what = "unterminated quoted string" if char in "\"'`" else f"unexpected character: {char!r}"
            raise QueryParseError(f"{position(query, pos)}: parse error: {what}")
        kind = match.lastgroup or ""
        if kind not in ("space", "comment"):
            out.append(Token(kind, match.group(), pos))
        pos = match.end()
    return out


def position(query: str, offset: int) -> str:
    """Prometheus's `line:column` for an offset into the query."""
    line = query.count("\n", 0, offset) + 1
    column = offset - (query.rfind("\n", 0, offset) + 1) + 1
    return f"{line}:{column}"


_PAIRS = {"(": ")", "[": "]", "{": "}"}


def _partner(tokens: list[Token], index: int, here: str, there: str, step: int) -> int:
    """Walk from `index` by `step` to the bracket `there` that balances the `here` at `index`, or -1."""
    depth = 0
    for j in range(index, len(tokens) if step > 0 else -1, step):
        if tokens[j].is_op(here):
            depth += 1
        elif tokens[j].is_op(there):
            depth -= 1
            if depth == 0:
                return j
    return -1


def matching(tokens: list[Token], index: int) -> int:
    """The index of the bracket that closes the one at `index`, or -1."""
    opener = tokens[index].text
    return _partner(tokens, index, opener, _PAIRS[opener], 1)


def opening(tokens: list[Token], index: int) -> int:
    """The index of the bracket that opens the one closing at `index`, or -1."""
    closer = tokens[index].text
    opener = next(o for o, c in _PAIRS.items() if c == closer)
    return _partner(tokens, index, closer, opener, -1)


def is_keyword(token: Token, modifiers: bool = True) -> bool:
    """Operator words; with `modifiers`, also the selector modifiers (which may otherwise be metric names)."""
    if modifiers and token.is_word("offset", "anchored", "smoothed"):
        return True
    return token.is_word("and", "or", "unless", "by", "without", "on", "ignoring", "group_left", "group_right", "bool")


def ends_operand(tokens: list[Token], i: int) -> bool:
    token = tokens[i]
    if token.kind == "ident":
        return not is_keyword(token)
    return token.kind in ("duration", "number") or (token.kind == "op" and token.text in ENDS_SELECTOR)
