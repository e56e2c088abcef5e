"""Parsed queries are kept: the same text gives the same tree, errors are not kept, the cache is bounded."""

from __future__ import annotations

import pytest

from nightowl.promql import parse as parse_module
from nightowl.promql.errors import QueryParseError
from nightowl.promql.parse import parse


def test_same_text_same_tree_and_errors_every_time(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(parse_module, "PARSED_KEPT", 3)
    first = parse('sum(rate(x{a=~"b.*"}[5m]))', 100)
    assert parse('sum(rate(x{a=~"b.*"}[5m]))', 100) is first
    for _ in range(2):
        with pytest.raises(QueryParseError):
            parse("sum(", 100)
    with pytest.raises(QueryParseError, match="query_max_length"):
        parse('sum(rate(x{a=~"b.*"}[5m]))', 10)  # the length limit still applies to known texts
    for n in range(5):
        parse(f"up + {n}", 100)
    assert len(parse_module._PARSED) <= 3
