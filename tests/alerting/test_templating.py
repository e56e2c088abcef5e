"""The Go-template subset of rule labels and annotations."""

from __future__ import annotations

import pytest

from nightowl.alerting.templating import Context, Sample, compile_template, render


def expand(source: str, value: float = 1234567.0) -> str:
    ctx = Context(
        {"instance": "a:9100", "job": "node"},
        value,
        {"cluster": "eu"},
        query=lambda q: [Sample({"instance": "b"}, 0.25), Sample({"instance": "a"}, 0.5)],
    )
    return render(compile_template(source), ctx)


@pytest.mark.parametrize(
    ("source", "value", "expected"),
    [
        ("{{ $labels.instance }} is {{ $value | humanize }}", 1234567.0, "a:9100 is 1.235M"),
        ("{{ $value | humanize }}", 0.005, "5m"),
        ("{{ $value | humanize1024 }}", 2048.0, "2ki"),
        ("{{ $value | humanizePercentage }}", 0.256, "25.6%"),
        ("{{ $value | humanizeDuration }}", 90061.0, "1d 1h 1m 1s"),
        ("{{ $value | humanizeDuration }}", 0.25, "250ms"),
        ("{{ $value | humanizeTimestamp }}", 1700000000.0, "2023-11-14 22:13:20 +0000 UTC"),
        ('{{ printf "%.1f" $value }}', 2.25, "2.2"),
        ("{{ $externalLabels.cluster | toUpper }} {{ .Labels.job | title }}", 1.0, "EU Node"),
        ("{{ if gt $value 80.0 }}high{{ else if gt $value 50.0 }}mid{{ else }}low{{ end }}", 60.0, "mid"),
        ('{{ query "up" | first | value | humanizePercentage }}', 1.0, "25%"),
        (
            '{{ range query "up" | sortByLabel "instance" }}{{ .Labels.instance }}={{ .Value }} {{ end }}',
            1.0,
            "a=0.5 b=0.25 ",
        ),
        ("x {{- $labels.job -}} y", 1.0, "xnodey"),
    ],
)
def test_expansion(source: str, value: float, expected: str) -> None:
    assert expand(source, value) == expected


@pytest.mark.parametrize(
    ("source", "named"),
    [
        ("{{ with $labels }}{{ end }}", "with"),
        ('{{ template "x" }}', "template"),
        ("{{ $x := 1 }}", "variable assignment"),
        ("{{ if $value }}", "missing {{ end }}"),
        ("{{ nosuchfunc $value }}", "nosuchfunc"),
    ],
)
def test_unsupported_constructs_are_named_at_load_time(source: str, named: str) -> None:
    with pytest.raises(ValueError, match=named.replace("{", r"\{").replace("}", r"\}")):
        compile_template(source)


def test_render_errors_show_in_the_text() -> None:
    ctx = Context({}, 1.0, query=lambda q: [])
    assert "error expanding template" in render(compile_template('{{ query "x" | first | value }}'), ctx)
