"""The pure translations and the error mapping of the remote backend, without a server."""

from __future__ import annotations

import httpx
import pytest

from nightowl.core.errors import InvalidInput, Unavailable
from nightowl.metrics.model import Matcher
from nightowl.metrics.remote import RemoteConfig, RemoteQueryEngine
from nightowl.metrics.remote.client import RemoteAPI, build_client
from nightowl.metrics.remote.config import redact_url
from nightowl.metrics.remote.promapi import query_result, seconds, select_window, selector


def test_parameters_are_exact_and_selectors_escape_values() -> None:
    assert seconds(1_700_000_000_123) == "1700000000.123"
    assert seconds(-1500) == "-1.500"
    assert selector([Matcher("__name__", "=", "up"), Matcher("path", "=~", 'a"b\\.c\n')]) == (
        '{__name__="up", path=~"a\\"b\\\\.c\\n"}'
    )
    with pytest.raises(InvalidInput):
        selector([])
    at, window = select_window(10_000, 20_000)
    assert at - window <= 10_000 - 1 and at >= 20_000


def test_json_results_become_query_results() -> None:
    vector = query_result(
        {"resultType": "vector", "result": [{"metric": {"job": "a"}, "value": [1700000000.5, "NaN"]}]}, ["w"], []
    )
    assert vector.series[0].timestamps.tolist() == [1_700_000_000_500]
    assert vector.warnings == ["w"]
    matrix = query_result(
        {
            "resultType": "matrix",
            "result": [
                {"metric": {"__name__": "x"}, "values": [[1, "1"], [2, "+Inf"]]},
                {"metric": {"__name__": "h"}, "histograms": [[1, {"count": "1"}]]},
            ],
        },
        [],
        [],
    )
    assert [s.values.tolist() for s in matrix.series] == [[1.0, float("inf")]]
    assert matrix.warnings == ["1 series with native histogram samples were left out"]
    assert query_result({"resultType": "string", "result": [3, "hi"]}, [], []).string == (3000, "hi")
    with pytest.raises(ValueError):
        query_result({"resultType": "streams", "result": []}, [], [])


def engine_answering(handler: httpx.MockTransport, **options: object) -> RemoteQueryEngine:
    config = RemoteConfig.for_url("http://remote.test", **options)
    return RemoteQueryEngine(RemoteAPI(config, build_client(config, handler)))


def test_remote_failures_become_problems_a_client_can_act_on() -> None:
    def answer(request: httpx.Request) -> httpx.Response:
        query = request.content.decode()
        if "bad" in query:
            return httpx.Response(400, json={"status": "error", "errorType": "bad_data", "error": "parse error"})
        if "slow" in query:
            raise httpx.ReadTimeout("slow", request=request)
        if "down" in query:
            raise httpx.ConnectError("refused", request=request)
        if "denied" in query:
            return httpx.Response(401, text="Unauthorized")
        return httpx.Response(503, text="<html>busy</html>", headers={"Retry-After": "7"})

    engine = engine_answering(httpx.MockTransport(answer))
    with pytest.raises(InvalidInput, match="parse error") as bad:
        engine.instant("bad", 0)
    assert bad.value.field == "query"
    with pytest.raises(Unavailable, match="did not answer"):
        engine.instant("slow", 0)
    with pytest.raises(Unavailable, match="cannot reach"):
        engine.instant("down", 0)
    with pytest.raises(Unavailable, match="credentials"):
        engine.instant("denied", 0)
    with pytest.raises(Unavailable) as busy:
        engine.instant("busy", 0)
    assert busy.value.headers == {"Retry-After": "7"}


def test_credentials_are_sent_and_never_shown() -> None:
    seen: list[str] = []

    def answer(request: httpx.Request) -> httpx.Response:
        seen.append(request.headers["Authorization"])
        return httpx.Response(200, json={"status": "success", "data": {"resultType": "scalar", "result": [1, "1"]}})

    engine_answering(httpx.MockTransport(answer), bearer_token="s3cret").instant("1", 0)
    engine_answering(httpx.MockTransport(answer), username="u", password="pw").instant("1", 0)
    assert seen == ["Bearer s3cret", "Basic dTpwdw=="]
    config = RemoteConfig.for_url("http://u:pw@remote.test", password="pw", bearer_token="tok")
    assert "pw" not in repr(config) and "tok" not in repr(config)
    assert redact_url("http://u:pw@remote.test:8428/x") == "http://u:***@remote.test:8428/x"
