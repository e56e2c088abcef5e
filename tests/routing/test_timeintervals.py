from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from nightowl.core.errors import InvalidInput
from nightowl.routing.timeintervals import parse_time_intervals

INTERVALS = parse_time_intervals(
    [
        {
            "name": "offhours",
            "time_intervals": [
                {"times": [{"start_time": "00:00", "end_time": "09:00"}, {"start_time": "17:00", "end_time": "24:00"}]},
                {"weekdays": ["saturday", "sunday"]},
            ],
        },
        {"name": "month-end", "time_intervals": [{"days_of_month": ["-3:-1"], "months": ["january:march"]}]},
        {
            "name": "berlin-lunch",
            "time_intervals": [{"times": [{"start_time": "12:00", "end_time": "13:00"}], "location": "Europe/Berlin"}],
        },
    ]
)


def at(text: str, zone: str = "UTC") -> float:
    return datetime.fromisoformat(text).replace(tzinfo=ZoneInfo(zone)).timestamp()


def test_offhours() -> None:
    [night, weekend] = INTERVALS["offhours"]
    assert night.contains(at("2024-03-05T08:59")) and not night.contains(at("2024-03-05T09:00"))
    assert night.contains(at("2024-03-05T23:59"))
    assert weekend.contains(at("2024-03-09T12:00")) and not weekend.contains(at("2024-03-08T12:00"))


def test_negative_days_count_from_month_end() -> None:
    [interval] = INTERVALS["month-end"]
    assert interval.contains(at("2024-02-27T10:00")) and not interval.contains(at("2024-02-26T10:00"))
    assert not interval.contains(at("2024-04-29T10:00"))


def test_location() -> None:
    [lunch] = INTERVALS["berlin-lunch"]
    assert lunch.contains(at("2024-01-10T12:30", "Europe/Berlin"))
    assert not lunch.contains(at("2024-01-10T12:30"))


@pytest.mark.parametrize(
    "spec",
    [
        {"times": [{"start_time": "25:00", "end_time": "26:00"}]},
        {"weekdays": ["funday"]},
        {"days_of_month": ["0"]},
        {"location": "Mars/Olympus"},
    ],
)
def test_invalid_intervals(spec: dict[str, object]) -> None:
    with pytest.raises(InvalidInput):
        parse_time_intervals([{"name": "x", "time_intervals": [spec]}])
