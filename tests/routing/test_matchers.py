from __future__ import annotations

import pytest

from nightowl.core.errors import InvalidInput
from nightowl.routing.alert import fingerprint
from nightowl.routing.matchers import Matcher, parse_matchers


def test_parses_braced_quoted_and_unquoted_matchers() -> None:
    assert parse_matchers('{a="b", c=~"d|e", f!=g, h!~"x,y"}') == [
        Matcher("a", "=", "b"),
        Matcher("c", "=~", "d|e"),
        Matcher("f", "!=", "g"),
        Matcher("h", "!~", "x,y"),
    ]
    assert parse_matchers('a="quote \\" inside"') == [Matcher("a", "=", 'quote " inside')]
    assert parse_matchers("{}") == []


def test_regex_is_anchored_and_missing_label_is_empty() -> None:
    assert Matcher("a", "=~", "fo+").matches({"a": "foo"})
    assert not Matcher("a", "=~", "fo").matches({"a": "foo"})
    assert Matcher("a", "=", "").matches({})
    assert Matcher("a", "!~", ".+").matches({})


@pytest.mark.parametrize("text", ["a", '1a="b"', 'a="b', 'a=~"("'])
def test_invalid_matchers_are_rejected(text: str) -> None:
    with pytest.raises(InvalidInput):
        parse_matchers(text)


def test_fingerprint_is_prometheus_fnv64a() -> None:
    # the empty label set hashes to FNV-1a 64's offset basis
    assert fingerprint({}) == "cbf29ce484222325"
    assert fingerprint({"a": "b", "c": "d"}) == fingerprint({"c": "d", "a": "b"})
    assert fingerprint({"a": "bc"}) != fingerprint({"ab": "c"})
