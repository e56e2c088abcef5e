"""Property tests for the PromQL entry: whatever the depth, length or regex of a query, the engine
answers or refuses with a PromQL error (a 4xx, or 503 for a timeout), never anything that would be
a 500, and in bounded time."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator

import httpx
import pytest
from fastapi import FastAPI
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from nightowl.app import create_app
from nightowl.config import load_settings
from nightowl.core.clock import ManualClock
from nightowl.metrics.memory import MemoryStorage
from nightowl.metrics.model import SampleBatch, labels_from_dict
from nightowl.promql.engine import EngineLimits, PromQLEngine
from nightowl.promql.errors import PromQLError
from tests.conftest import BASE_URL, credential_for

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


class Http:
    """The real app over ASGI, driven from synchronous property tests on an event loop of its own."""

    def __init__(self, app: FastAPI, loop: asyncio.AbstractEventLoop) -> None:
        self.loop = loop
        headers = {"Authorization": f"Bearer {credential_for(app, scopes=['admin'])}"}
        self.client = httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=BASE_URL, headers=headers)

    def post(self, path: str, data: dict[str, str]) -> httpx.Response:
        return self.loop.run_until_complete(self.client.post(path, data=data))


@pytest.fixture(scope="module")
def http(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Http]:
    settings = load_settings(None, data_dir=tmp_path_factory.mktemp("props") / "data", query_timeout=BOUND_S)
    app = create_app(settings, clock=ManualClock(1_700_000_000.0))
    loop = asyncio.new_event_loop()
    lifespan = app.router.lifespan_context(app)
    loop.run_until_complete(lifespan.__aenter__())
    try:
        yield Http(app, loop)
    finally:
        loop.run_until_complete(lifespan.__aexit__(None, None, None))
        loop.close()


ANY_QUERY = st.one_of(
    st.lists(st.sampled_from(OPENERS), max_size=400).map(lambda o: "".join(o) + "up" + ")" * len(o)),
    st.lists(st.sampled_from(OPERATORS), max_size=3000).map(lambda ops: "up" + "".join(op + "up" for op in ops)),
    st.lists(REGEX_ALPHABET, max_size=60).map(
        lambda p: 'count(up{a=~"' + "".join(p).replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"})'
    ),
    st.text(max_size=300),
)
ANY_TIME = st.one_of(
    st.sampled_from(["1e300", "-1e300", "nan", "inf", "9223372036854775", "0", "1700000000", "x", ""]),
    st.floats(allow_nan=True, allow_infinity=True).map(repr),
)


@PROPERTY
@given(query=ANY_QUERY, at=ANY_TIME, step=ANY_TIME)
def test_the_http_api_never_answers_500(http: Http, query: str, at: str, step: str) -> None:
    started = time.perf_counter()
    instant = http.post("/prometheus/api/v1/query", data={"query": query, "time": at})
    ranged = http.post(
        "/prometheus/api/v1/query_range", data={"query": query, "start": "1699990000", "end": at, "step": step}
    )
    for response in (instant, ranged):
        assert response.status_code < 500 or response.json()["errorType"] in ("timeout", "unavailable"), (
            response.status_code,
            response.text[:300],
        )
    assert time.perf_counter() - started < 4 * BOUND_S + 2.0
