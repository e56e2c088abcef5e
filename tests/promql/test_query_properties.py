"""Property tests for the PromQL entry: whatever the depth, length or regex of a query, the engine
answers or refuses with a PromQL error (a 4xx, or 503 for a timeout), never anything that would be
a 500, and in bounded time."""

from __future__ import annotations

import time

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from nightowl.metrics.memory import MemoryStorage
from nightowl.metrics.model import SampleBatch, labels_from_dict
from nightowl.promql.engine import EngineLimits, PromQLEngine
from nightowl.promql.errors import PromQLError

BOUND_S = 2.0
OPENERS = ["(", "abs(", "sum(", "rate(", "-", "max by (a) (", "label_replace(", "clamp_min(", "{", "["]
OPERATORS = ["+", "-", "*", "/", "^", "%", " and ", " or ", " unless ", " == ", " > bool ", " atan2 "]


@pytest.fixture(scope="module")
def engine() -> PromQLEngine:
    storage = MemoryStorage()
    rows = []
    for i in range(20):
        labels = labels_from_dict({"__name__": "up", "a": f"v{i}\n{'x' * i}", "job": "api" if i % 2 else "web"})
        rows += [(labels, t * 15_000, float(t)) for t in range(20)]
    storage.append(SampleBatch.from_rows(rows))
    return PromQLEngine(storage, EngineLimits(timeout_s=BOUND_S))


def answers_or_refuses(engine: PromQLEngine, query: str) -> None:
    started = time.perf_counter()
    try:
        engine.instant(query, 300_000)
        engine.range(query, 0, 300_000, 15_000)
    except PromQLError:
        pass
    assert time.perf_counter() - started < 2 * BOUND_S + 1.0, query[:200]


PROPERTY = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])


@PROPERTY
@given(openers=st.lists(st.sampled_from(OPENERS), max_size=400), closers=st.booleans())
def test_any_nesting_depth(engine: PromQLEngine, openers: list[str], closers: bool) -> None:
    query = "".join(openers) + "up" + (")" * len(openers) if closers else "")
    answers_or_refuses(engine, query)


@PROPERTY
@given(ops=st.lists(st.sampled_from(OPERATORS), max_size=3000), term=st.sampled_from(["1", "up", "(up)", "-up"]))
def test_any_operator_chain(engine: PromQLEngine, ops: list[str], term: str) -> None:
    answers_or_refuses(engine, term + "".join(op + term for op in ops))


REGEX_ALPHABET = st.sampled_from(list("ab.*+?|()[]{}^$\\-0123456789,xy") + ["(?i)", "\\d", "\\pL", "(?P<n>", "\n"])


@PROPERTY
@given(parts=st.lists(REGEX_ALPHABET, max_size=60), op=st.sampled_from(["=~", "!~"]))
def test_any_label_regex(engine: PromQLEngine, parts: list[str], op: str) -> None:
    pattern = "".join(parts).replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
    answers_or_refuses(engine, f'count(up{{a{op}"{pattern}"}})')
    answers_or_refuses(engine, f'label_replace(up, "b", "$1", "a", "{pattern}")')


@PROPERTY
@given(text=st.text(alphabet=st.sampled_from(list("up()[]{}=~!\"'`,+-*/^%<>@:. 0123456789eEsmhx#\n\\")), max_size=300))
def test_any_text(engine: PromQLEngine, text: str) -> None:
    answers_or_refuses(engine, text)
