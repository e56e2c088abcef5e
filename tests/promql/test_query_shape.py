"""Deep and long expressions are refused before parsing, quickly and with the limit they broke, on
every way a PromQL text comes in; out-of-range times and steps are bad data, never a 500."""

from __future__ import annotations

import threading
import time
import tracemalloc
from pathlib import Path

import httpx
import pytest
from typer.testing import CliRunner

from nightowl.cli import app as cli_app
from nightowl.metrics.memory import MemoryStorage
from nightowl.metrics.model import SampleBatch, labels_from_dict
from nightowl.promql.engine import EngineLimits, PromQLEngine
from nightowl.promql.errors import QueryParseError
from nightowl.promql.parse import parse
from nightowl.promql.shape import DEPTH_CEILING, measure

CHAIN = "1" + "+1" * 7999  # the 16,000-character chain that crashed the process
PARENS = "(" * 8000 + "1" + ")" * 8000
NESTED_ABS = "abs(" * 3000 + "up" + ")" * 3000
NESTED_SUM = "sum(" * 2000 + "up" + ")" * 2000
TERMS_500 = " + ".join(["up"] * 500)
DEEP = (CHAIN, PARENS, NESTED_ABS, NESTED_SUM, TERMS_500)


@pytest.mark.parametrize("query", DEEP, ids=["chain", "parens", "abs", "sum", "terms"])
def test_deep_queries_are_refused_in_milliseconds_naming_the_limit(query: str) -> None:
    tracemalloc.start()
    started = time.perf_counter()
    try:
        with pytest.raises(QueryParseError, match="query_max_depth=128"):
            parse(query, 1_000_000)
        took = time.perf_counter() - started
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert took < 0.05
    assert peak < 1_000_000  # bytes: nothing is built for a refused query (8,000 parentheses took 4.6 GB)


def test_operator_count_is_limited_even_when_shallow() -> None:
    shallow = " + ".join("sum(" + " or ".join(["up"] * 20) + ")" for _ in range(60))
    assert measure(shallow).depth < 128 and measure(shallow).operators > 1000
    with pytest.raises(QueryParseError, match="query_max_operators=1000"):
        parse(shallow, 1_000_000)


def test_depth_counts_brackets_and_chains_but_not_strings_comments_or_matchers() -> None:
    assert measure("up").depth == 0
    assert measure("sum(rate(x[5m]))").depth == 3
    assert measure("a + b + c").depth == 2
    assert measure('up{a=~"((((", b!="+++"} # ((((\n').depth == 1
    assert measure('up{a=~"x", b!="y"}').operators == 0
    assert measure("f(a + b, c + d)").depth == 2
    assert measure("-1e-5").operators == 1


def test_the_deepest_allowed_query_evaluates_in_a_worker_thread() -> None:
    """At the highest depth a setting may allow, the evaluator's recursion still fits."""
    storage = MemoryStorage()
    storage.append(SampleBatch.from_rows([(labels_from_dict({"__name__": "up"}), 0, 1.0)]))
    engine = PromQLEngine(storage, EngineLimits(max_depth=DEPTH_CEILING))
    n = DEPTH_CEILING - 1
    for query in (
        "sum(" * n + "up" + ")" * n,
        "abs(" * n + "up" + ")" * n,
        "(" * n + "up" + ")" * n,
        "-" * n + "up",
        "up" + " + up" * n,
        "sum(" * (n // 2) + "up" + " + up" * (n // 2) + ")" * (n // 2),
    ):
        outcome: list[object] = []

        def run(query: str = query, outcome: list[object] = outcome) -> None:
            try:
                outcome.append(engine.instant(query, 1000).result_type)
            except BaseException as exc:
                outcome.append(exc)

        worker = threading.Thread(target=run)
        worker.start()
        worker.join()
        assert outcome == ["vector"], (query[:20], outcome)


async def test_query_apis_answer_400_bad_data_for_deep_queries(client: httpx.AsyncClient) -> None:
    for query in DEEP:
        started = time.perf_counter()
        instant = await client.post("/prometheus/api/v1/query", data={"query": query, "time": "100"})
        ranged = await client.post(
            "/prometheus/api/v1/query_range", data={"query": query, "start": "0", "end": "100", "step": "10"}
        )
        assert time.perf_counter() - started < 1.0
        for response in (instant, ranged):
            assert response.status_code == 400, response.text
            body = response.json()
            assert body["status"] == "error" and body["errorType"] == "bad_data"
            assert "query_max_depth=128" in body["error"]


async def test_rule_groups_with_deep_expressions_are_refused(client: httpx.AsyncClient) -> None:
    group = f"groups:\n- name: deep\n  rules:\n  - alert: Deep\n    expr: '{CHAIN}'\n"
    response = await client.post(
        "/api/v1/alert-rules/groups", content=group, headers={"Content-Type": "application/yaml"}
    )
    assert 400 <= response.status_code < 500, response.text
    assert "query_max_depth" in response.text


def test_rules_check_refuses_deep_expressions(tmp_path: Path) -> None:
    rules = tmp_path / "deep.yml"
    rules.write_text(f"groups:\n- name: deep\n  rules:\n  - record: deep\n    expr: '{PARENS}'\n")
    result = CliRunner().invoke(cli_app, ["rules", "check", str(rules)])
    assert result.exit_code == 1
    assert "query_max_depth" in result.output


INSTANT_BAD = [
    ({"time": "1e300"}, '"time"'),
    ({"time": "-1e300"}, '"time"'),
    ({"time": "nan"}, '"time"'),
    ({"time": "inf"}, '"time"'),
    ({"time": "100", "timeout": "nan"}, '"timeout"'),
    ({"time": "100", "timeout": "1e300"}, '"timeout"'),
]
RANGE_BAD = [
    ({"start": "1e300", "end": "1e301", "step": "1"}, '"start"'),
    ({"start": "0", "end": "inf", "step": "1"}, '"end"'),
    ({"start": "0", "end": "100", "step": "nan"}, '"step"'),
    ({"start": "0", "end": "100", "step": "-10"}, "zero or negative"),
    ({"start": "0", "end": "100", "step": "1e300"}, '"step"'),
    ({"start": "0", "end": "100000", "step": "1"}, "11,000 points"),
    ({"start": "-9e15", "end": "9e15", "step": "1e12"}, '"start"'),
]


async def test_time_step_and_timeout_out_of_range_are_400_bad_data(client: httpx.AsyncClient) -> None:
    for path, cases in (("query", INSTANT_BAD), ("query_range", RANGE_BAD)):
        for params, needle in cases:
            response = await client.get(f"/prometheus/api/v1/{path}", params={"query": "up", **params})
            assert response.status_code == 400, (params, response.text)
            body = response.json()
            assert body["errorType"] == "bad_data" and needle in body["error"], body


async def test_extreme_but_valid_times_never_500(client: httpx.AsyncClient) -> None:
    for time_text in ("9223372036854775", "-9223372036854775", "0"):
        for query in ("up", "up offset -1h", "up @ end()", "time()", "rate(up[5m] offset 1w)", "timestamp(up)"):
            response = await client.get("/prometheus/api/v1/query", params={"query": query, "time": time_text})
            assert response.status_code < 500, (query, time_text, response.text)
