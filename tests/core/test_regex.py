"""Label regexes are RE2: linear time whatever the pattern, Prometheus's syntax and anchoring, one
compiled copy per pattern in a cache bounded by bytes; every place that matches labels uses them."""

from __future__ import annotations

import time

import httpx
import pytest

from nightowl.core import regex
from nightowl.core.regex import RegexError, compile_regex, replace_all
from nightowl.metrics.memory import MemoryStorage
from nightowl.metrics.model import Matcher, SampleBatch, labels_from_dict
from nightowl.promql.engine import PromQLEngine
from nightowl.promql.errors import QueryParseError
from nightowl.routing.matchers import Matcher as RouteMatcher
from nightowl.scrape.config import RelabelConfig
from nightowl.scrape.relabel import compile_rules, relabel

EVIL = "(.*.*)*y"
LONG_VALUE = "x" * 5000


def test_catastrophic_pattern_matches_in_linear_time() -> None:
    started = time.perf_counter()
    assert not compile_regex(EVIL).matches(LONG_VALUE)
    assert not Matcher("__name__", "=~", EVIL).matches(LONG_VALUE)
    assert not RouteMatcher("job", "=~", EVIL).matches({"job": LONG_VALUE})
    assert time.perf_counter() - started < 0.5


def test_promql_selector_with_catastrophic_regex_answers_quickly() -> None:
    storage = MemoryStorage()
    rows = [(labels_from_dict({"__name__": "x" * 40 + str(i)}), 0, 1.0) for i in range(200)]
    storage.append(SampleBatch.from_rows(rows))
    started = time.perf_counter()
    result = PromQLEngine(storage).instant('count({__name__=~"(.*.*)*y"})', 1000)
    assert result.series == []
    assert time.perf_counter() - started < 1.0


@pytest.mark.parametrize(
    ("pattern", "value", "expected"),
    [
        ("a|b", "a", True),
        ("a|b", "ab", False),  # anchored at both ends
        ("(a|b)", "b", True),
        ("api.*", "api-1", True),
        (".*-1", "api-1", True),
        (".*pi.*", "api-1", True),
        (".*", "", True),
        (".+", "", False),
        ("a.b", "a\nb", True),  # `.` matches newlines, as Prometheus's (?s:...)
        ("(?i)abc", "ABC", True),
        ("\\pL+", "abé", True),  # RE2 classes Python's re lacks
        ("x{2}", "xx", True),
        ("^foo$", "foo", True),
    ],
)
def test_prometheus_semantics(pattern: str, value: str, expected: bool) -> None:
    assert compile_regex(pattern).matches(value) is expected


@pytest.mark.parametrize("pattern", ["(a", "a(?=b)", "(a)\\1", "x{1001}"])
def test_patterns_re2_refuses_are_errors_everywhere(pattern: str) -> None:
    with pytest.raises(RegexError):
        compile_regex(pattern)
    with pytest.raises(QueryParseError):
        PromQLEngine(MemoryStorage()).instant(f'up{{a=~"{pattern.replace(chr(92), chr(92) * 2)}"}}', 1000)
    with pytest.raises(ValueError):
        RelabelConfig(regex=pattern)


def test_capture_groups_expand_in_relabeling_and_label_replace() -> None:
    rules = compile_rules(
        [
            RelabelConfig(
                source_labels=["addr"], regex="(?P<host>[^:]+):(\\d+)", target_label="h", replacement="$host/$2"
            )
        ]
    )
    assert dict(relabel({"addr": "db:5432"}, rules) or {})["h"] == "db/5432"
    assert replace_all("a(b)", "<$1>", "xab") == "x<b>"
    storage = MemoryStorage()
    storage.append(SampleBatch.from_rows([(labels_from_dict({"__name__": "up", "addr": "db:5432"}), 0, 1.0)]))
    (series,) = PromQLEngine(storage).instant('label_replace(up, "host", "$1", "addr", "(.*):.*")', 1000).series
    assert dict(series.labels)["host"] == "db"


def test_cache_is_bounded_by_bytes(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(regex, "CACHE_BYTES", 64 * 1024)
    for i in range(500):
        compile_regex(f"job-{i}-(a|b|c)+[0-9]*")
    assert 0 < regex.cached_bytes() <= 64 * 1024
    assert len(regex._cache) < 500


async def test_silence_and_alert_filters_use_re2(client: httpx.AsyncClient) -> None:
    started = time.perf_counter()
    response = await client.get("/api/v2/alerts", params={"receiver": EVIL})
    assert response.status_code == 200
    bad = await client.get("/api/v2/alerts", params={"receiver": "(a"})
    assert bad.status_code == 400 or bad.status_code == 422
    assert time.perf_counter() - started < 2.0


def test_retention_selectors_validate_their_regexes_with_re2() -> None:
    from nightowl.tsdb.options import parse_selector

    with pytest.raises(ValueError, match="missing \\)"):
        parse_selector('x{a=~"(b"}')
    with pytest.raises(ValueError, match="invalid regular expression"):
        parse_selector('x{a=~"a(?=b)"}')  # Python's re accepts a lookahead; Prometheus (RE2) does not


def test_lone_surrogates_in_values_do_not_raise() -> None:
    assert compile_regex("a.*").matches("a\ud800")
    assert not compile_regex("b|c").matches("\ud800")
    found = compile_regex("(a)(.*)").match("a\ud800")
    assert found is not None and found.group(2) == "\ud800"
