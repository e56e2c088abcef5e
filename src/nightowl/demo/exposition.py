"""A demo service's state as Prometheus text exposition 0.0.4 (what a real service's /metrics answers)."""

from __future__ import annotations

from nightowl.demo.simulation import Histogram, Key, ServiceState

FAMILIES: dict[str, tuple[str, str, tuple[str, ...]]] = {
    "http_requests_total": (
        "counter",
        "HTTP requests served, by method, route and status.",
        ("method", "route", "status"),
    ),
    "http_request_duration_seconds": ("histogram", "HTTP request latency.", ("method", "route")),
    "db_query_duration_seconds": ("histogram", "Database query latency, by operation.", ("operation",)),
    "tickets_sold_total": ("counter", "Tickets sold, by event type.", ("event_type",)),
    "revenue_cents_total": ("counter", "Gross ticket revenue in cents.", ("currency",)),
    "refunds_processed_total": ("counter", "Refunds processed.", ()),
    "active_listings": ("gauge", "Resale listings currently open.", ()),
    "payment_success_total": ("counter", "Successful payments, by provider.", ("provider",)),
    "payment_failure_total": ("counter", "Failed payments, by provider and reason.", ("provider", "reason")),
    "nft_minted_total": ("counter", "NFT tickets minted, by collection.", ("collection",)),
    "solana_transaction_time_seconds": ("histogram", "Time for a Solana transaction to confirm.", ()),
    "solana_transactions_total": ("counter", "Solana transactions submitted.", ()),
    "solana_transaction_failures_total": ("counter", "Solana transactions that failed, by reason.", ("reason",)),
    "notifications_sent_total": ("counter", "Notifications sent, by channel.", ("channel",)),
    "logins_total": ("counter", "Login attempts, by result.", ("result",)),
    "active_users": ("gauge", "Users with a session active in the last 5 minutes.", ()),
    "queue_size": ("gauge", "Jobs waiting in the service's work queue.", ()),
    "cache_hit_rate": ("gauge", "Share of cache lookups served from cache (0-1).", ()),
}


def _labels(names: tuple[str, ...], key: Key, extra: str = "") -> str:
    pairs = [f'{n}="{v}"' for n, v in zip(names, key, strict=True)]
    if extra:
        pairs.append(extra)
    return "{" + ",".join(pairs) + "}" if pairs else ""


def _number(value: float) -> str:
    return str(int(round(value))) if abs(value) >= 1e-9 and value == round(value) else f"{value:.6g}"


def _histogram_lines(name: str, names: tuple[str, ...], key: Key, hist: Histogram) -> list[str]:
    lines = []
    for bound, cumulative in zip(hist.bounds, hist.buckets, strict=True):
        le = f'le="{bound:g}"'
        lines.append(f"{name}_bucket{_labels(names, key, le)} {round(cumulative)}")
    inf = 'le="+Inf"'
    lines.append(f"{name}_bucket{_labels(names, key, inf)} {round(hist.count)}")
    lines.append(f"{name}_sum{_labels(names, key)} {hist.total:.6f}")
    lines.append(f"{name}_count{_labels(names, key)} {round(hist.count)}")
    return lines


def render(state: ServiceState) -> str:
    lines: list[str] = []
    for name, (kind, help_text, names) in FAMILIES.items():
        if kind == "histogram":
            family = state.histograms.get(name)
            if not family:
                continue
            lines += [f"# HELP {name} {help_text}", f"# TYPE {name} {kind}"]
            for key, hist in sorted(family.items()):
                lines += _histogram_lines(name, names, key, hist)
            continue
        values = state.counters.get(name) if kind == "counter" else state.gauges.get(name)
        if not values:
            continue
        lines += [f"# HELP {name} {help_text}", f"# TYPE {name} {kind}"]
        for key, value in sorted(values.items()):
            shown = str(round(value)) if kind == "counter" else _number(value)
            lines.append(f"{name}{_labels(names, key)} {shown}")
    return "\n".join(lines) + "\n"
