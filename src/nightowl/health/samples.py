"""Check results as metrics, so PromQL and alert rules see them (the blackbox exporter's names)."""

from __future__ import annotations

from nightowl.health.model import STATE_VALUES, Check, CheckResult, State
from nightowl.metrics.model import Labels, SampleBatch, labels_from_dict

Row = tuple[Labels, int, float]

METADATA: dict[str, tuple[str, str, str]] = {
    "probe_success": ("gauge", "1 when the last run of the check passed (up or degraded), 0 when it failed.", ""),
    "probe_duration_seconds": ("gauge", "Latency of the last run, I/O only; run duration for heartbeats.", "seconds"),
    "probe_tls_cert_expiry_seconds": (
        "gauge",
        "Unix time at which the server certificate expires (subtract time() for seconds left).",
        "seconds",
    ),
    "nightowl_check_state": ("gauge", "State of the check: 0 up, 1 degraded, 2 down, -1 unknown.", ""),
}


def check_labels(check: Check, name: str) -> Labels:
    values = dict(check.spec.labels)
    values.update({"__name__": name, "check": check.spec.name, "type": check.spec.type})
    if check.spec.service:
        values["service"] = check.spec.service
    return labels_from_dict(values)


def result_rows(check: Check, result: CheckResult, state: State) -> list[Row]:
    ts = int(result.at * 1000)
    rows: list[Row] = [
        (check_labels(check, "probe_success"), ts, 0.0 if result.outcome == "down" else 1.0),
        (check_labels(check, "nightowl_check_state"), ts, STATE_VALUES[state]),
    ]
    if result.latency is not None:
        rows.append((check_labels(check, "probe_duration_seconds"), ts, result.latency))
    if result.tls_expiry is not None:
        rows.append((check_labels(check, "probe_tls_cert_expiry_seconds"), ts, result.tls_expiry))
    return rows


def state_row(check: Check, state: State, at: float) -> Row:
    return (check_labels(check, "nightowl_check_state"), int(at * 1000), STATE_VALUES[state])


def batch(rows: list[Row]) -> SampleBatch:
    result = SampleBatch.from_rows(rows)
    result.metadata.update({name: METADATA[name] for name in {dict(labels)["__name__"] for labels, _, _ in rows}})
    return result
