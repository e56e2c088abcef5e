"""How deep and how long a query's expression tree would be, measured on the text before parsing.

promql-parser builds and converts its tree recursively while holding the GIL: a chain `1+1+...` of
8,000 operators overflows its stack (the process dies), 8,000 nested parentheses take 20 s and
4.6 GB, and a few hundred nested calls exceed Python's recursion limit in the evaluator. One linear
pass over the text measures the tree's depth and its operator count first, so such a query is
refused in microseconds with the limit it broke.

Depth counts, along the deepest path, every bracket opened (calls, aggregations, parentheses,
selectors, subqueries) plus every operator chained at the same level (`a + b + c` nests its left side
one level per operator). The estimate errs high (a unary sign counts as an operator).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from nightowl.promql.errors import QueryParseError
from nightowl.promql.tokens import position

DEFAULT_MAX_DEPTH = 128
DEFAULT_MAX_OPERATORS = 1000
DEPTH_CEILING = 200
"""The deepest any configuration may allow: ~4 Python frames per level must stay under the
interpreter's 1,000-frame recursion limit with room for the server's own frames."""

_SCAN = re.compile(
    r"""
    "(?:[^"\\]|\\.)*"? | '(?:[^'\\]|\\.)*'? | `[^`]*`?     # strings (an unterminated one runs to the end)
  | \#[^\n]*                                              # comments
  | (?:0[xX][0-9a-fA-F]+|(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?)[A-Za-z0-9_]*  # numbers and durations
  | (?P<word>[A-Za-z_][A-Za-z0-9_:]*)
  | (?P<open>[(\[{]) | (?P<close>[)\]}]) | (?P<comma>,)
  | (?P<op>==|!=|>=|<=|=~|!~|[-+*/%^<>])
    """,
    re.VERBOSE | re.DOTALL,
)
_WORD_OPERATORS = frozenset({"and", "or", "unless", "atan2"})


@dataclass(frozen=True)
class Shape:
    depth: int
    operators: int
    deepest_at: int  # offset into the text where the depth was reached


def measure(query: str, stop_above: int | None = None) -> Shape:
    """The depth and operator count of the tree `query` would parse to (an upper estimate); the scan
    stops early once the depth passes `stop_above`."""
    bases = [0]  # the depth each open bracket started at
    chains = [0]  # operators chained so far at each open level
    braces = [False]  # whether each open level is a selector's `{...}`, whose `=~`/`!=` are matchers
    depth = operators = deepest_at = 0
    for match in _SCAN.finditer(query):
        kind = match.lastgroup
        if kind is None:
            continue
        if kind == "word":
            if match.group().lower() not in _WORD_OPERATORS:
                continue
            kind = "op"
        if kind == "op":
            if braces[-1]:
                continue
            operators += 1
            chains[-1] += 1
        elif kind == "open":
            bases.append(bases[-1] + chains[-1] + 1)
            chains.append(0)
            braces.append(match.group() == "{")
        elif kind == "close":
            if len(bases) > 1:
                bases.pop()
                chains.pop()
                braces.pop()
            continue
        elif kind == "comma":
            chains[-1] = 0
            continue
        here = bases[-1] + chains[-1]
        if here > depth:
            depth, deepest_at = here, match.start()
            if stop_above is not None and depth > stop_above:
                break
    return Shape(depth, operators, deepest_at)


def check(query: str, max_depth: int = DEFAULT_MAX_DEPTH, max_operators: int = DEFAULT_MAX_OPERATORS) -> None:
    """QueryParseError naming the limit when `query` nests deeper or chains more operators than allowed."""
    shape = measure(query, stop_above=max_depth)
    if shape.depth > max_depth:
        raise QueryParseError(
            f"{position(query, shape.deepest_at)}: query nests more than query_max_depth={max_depth} levels deep "
            "(each bracket, call, aggregation and chained operator adds a level)"
        )
    if shape.operators > max_operators:
        raise QueryParseError(f"query has {shape.operators} operators, more than query_max_operators={max_operators}")
