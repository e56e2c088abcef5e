"""A body shaped like the last parsed one is read without the parser, with exactly the parser's result;
any other body is left to the parser."""

from __future__ import annotations

import random

import numpy as np
import pytest

from nightowl.ingest.exposition import parse_exposition
from nightowl.scrape.reshape import decimal_values, learn, reuse

TS = 1_700_000_000_000
FIRST = (
    "# HELP http_requests_total Requests.\n"
    "# TYPE http_requests_total counter\n"
    'http_requests_total{code="200",path="/a b"} 10\n'
    'http_requests_total{code="500",path="/a b"} 1.5e3\n'
    "\n"
    "temperature -3.25\n"
    "queue_size 0\n"
)


def parsed_equal(body: str, ts: int) -> None:
    shape = learn(FIRST.encode(), parse_exposition(FIRST, TS), TS, False)
    assert shape is not None
    fast = reuse(body.encode(), shape, ts)
    slow = parse_exposition(body, ts)
    assert fast is not None
    assert fast.series == slow.series
    assert fast.series_index.tolist() == slow.series_index.tolist()
    assert fast.timestamps.tolist() == slow.timestamps.tolist()
    np.testing.assert_array_equal(fast.values, slow.values)
    assert fast.metadata == slow.metadata


@pytest.mark.parametrize(
    "body",
    [
        FIRST,
        FIRST.replace(" 10\n", " 11\n").replace("-3.25", "+Inf").replace("queue_size 0", "queue_size NaN"),
        FIRST.replace(" 1.5e3\n", " 1234567.000001\n").replace("-3.25", "-Inf"),
    ],
)
def test_same_shape_new_values_match_the_parser(body: str) -> None:
    parsed_equal(body, TS + 15_000)


@pytest.mark.parametrize(
    "body",
    [
        FIRST + "new_series 1\n",
        FIRST.replace('code="500"', 'code="503"'),
        FIRST.replace("Requests.", "All requests."),
        FIRST.replace("queue_size 0\n", "queue_size 0 1600000000000\n"),
        FIRST.replace("queue_size 0\n", "queue_size stale\n"),
        FIRST.replace("queue_size 0\n", "queue_size 0x10\n"),
        FIRST.rstrip("\n"),
        FIRST.replace("temperature -3.25", "temperature  -3.25"),
        "",
    ],
)
def test_any_other_shape_goes_to_the_parser(body: str) -> None:
    shape = learn(FIRST.encode(), parse_exposition(FIRST, TS), TS, False)
    assert shape is not None
    assert reuse(body.encode(), shape, TS + 1) is None


@pytest.mark.parametrize(
    ("body", "openmetrics"),
    [
        ("a 1 1600000000000\n", False),
        ("a 1\r\n", False),
        ("a\t1\n", False),
        ("a 1 # a comment\n", False),
        ('# TYPE a histogram\na_bucket{le="+Inf"} 1 # {trace_id="x"} 0.5\na_count 1\na_sum 0.5\n# EOF\n', True),
    ],
)
def test_bodies_the_shortcut_cannot_vouch_for_are_not_learned(body: str, openmetrics: bool) -> None:
    assert learn(body.encode(), parse_exposition(body, TS, openmetrics=openmetrics), TS, openmetrics) is None


def test_plain_decimals_are_read_bit_for_bit_as_float_reads_them() -> None:
    rng = random.Random(6)
    values = ["0", "-0", "1.", ".5", "-.5", "007", "123456789012345", "0.00000000000001", "-99999.9999999999"]
    for _ in range(20_000):
        digits = "".join(rng.choice("0123456789") for _ in range(rng.randint(1, 15)))
        cut = rng.randint(0, len(digits))
        value = digits[:cut] + ("." if rng.random() < 0.7 else "") + digits[cut:]
        values.append("-" + value if rng.random() < 0.3 else value)
    read = decimal_values(np.frombuffer(("\n".join(values) + "\n").encode(), np.uint8), len(values))
    assert read is not None
    expected = np.array([float(v) for v in values])
    assert (read.view(np.uint64) == expected.view(np.uint64)).all()


@pytest.mark.parametrize(
    "values", [["1e3"], ["NaN"], ["+Inf"], ["+1"], ["1.2.3"], ["-"], ["."], ["--1"], ["1-2"], ["1234567890123456"]]
)
def test_other_value_forms_are_left_to_the_slow_reader(values: list[str]) -> None:
    raw = np.frombuffer(("\n".join(["1", *values]) + "\n").encode(), np.uint8)
    assert decimal_values(raw, 1 + len(values)) is None


OPENMETRICS = (
    "# TYPE jobs counter\n"
    "# HELP jobs Jobs run.\n"
    'jobs_total{queue="a"} 3.0\n'
    'jobs_created{queue="a"} 1.7325500213e+09\n'
    "# TYPE latency histogram\n"
    'latency_bucket{le="0.5"} 1.0\n'
    'latency_bucket{le="+Inf"} 2.0\n'
    "latency_count 2.0\n"
    "latency_sum 0.75\n"
    "latency_created 1.7325500213e+09\n"
    "# TYPE temperature gauge\n"
    "temperature -3.5\n"
    "# EOF\n"
)


@pytest.mark.parametrize(
    "body",
    [
        OPENMETRICS,
        OPENMETRICS.replace("3.0", "4.0").replace("0.75", "NaN").replace("2.0\nlatency_sum", "+Inf\nlatency_sum"),
        OPENMETRICS.replace("1.7325500213e+09", "1.7325500999e+09"),
    ],
)
def test_openmetrics_bodies_of_the_same_shape_match_the_parser_without_created_samples(body: str) -> None:
    shape = learn(OPENMETRICS.encode(), parse_exposition(OPENMETRICS, TS, openmetrics=True), TS, True)
    assert shape is not None
    fast = reuse(body.encode(), shape, TS + 15_000, openmetrics=True)
    slow = parse_exposition(body, TS + 15_000, openmetrics=True)
    assert fast is not None and len(fast) == len(slow) == 6
    assert fast.series == slow.series and fast.series_index.tolist() == slow.series_index.tolist()
    assert fast.timestamps.tolist() == slow.timestamps.tolist()
    np.testing.assert_array_equal(fast.values, slow.values)
    assert reuse(body.encode(), shape, TS + 15_000, openmetrics=False) is None  # the format changed: parse
