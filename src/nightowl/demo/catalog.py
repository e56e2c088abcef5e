"""The simulated platform's services: a ticketing marketplace with payments and NFT tickets on Solana.

Each service is described by plain numbers (traffic, latency, error rate) and the business metric
families it exposes; `simulation.py` turns them into evolving metrics.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class ServiceSpec:
    name: str
    rps: float
    """Requests per second at the daily peak."""
    latency: float
    """Median request latency in seconds when healthy."""
    error_rate: float
    """Share of requests answered 5xx when healthy."""
    routes: tuple[str, ...]
    db: bool = True
    domains: tuple[str, ...] = ()
    """Business metric families: tickets, payments, marketplace, blockchain, notifications, auth."""


SERVICES: tuple[ServiceSpec, ...] = (
    ServiceSpec("api-gateway", 120, 0.025, 0.002, ("/api/events", "/api/tickets", "/api/checkout"), db=False),
    ServiceSpec("auth", 40, 0.030, 0.001, ("/login", "/token/refresh", "/logout"), domains=("auth",)),
    ServiceSpec("user", 25, 0.020, 0.001, ("/users/{id}", "/users/{id}/preferences")),
    ServiceSpec("venue", 8, 0.035, 0.001, ("/venues", "/venues/{id}/seatmap")),
    ServiceSpec("event", 30, 0.040, 0.002, ("/events", "/events/{id}")),
    ServiceSpec("ticket", 20, 0.060, 0.003, ("/tickets/reserve", "/tickets/{id}"), domains=("tickets",)),
    ServiceSpec("order", 12, 0.080, 0.003, ("/orders", "/orders/{id}")),
    ServiceSpec("payment", 10, 0.250, 0.004, ("/payments/charge", "/payments/refund"), domains=("payments",)),
    ServiceSpec("pricing", 18, 0.015, 0.001, ("/prices/quote",), db=False),
    ServiceSpec("inventory", 15, 0.030, 0.002, ("/inventory/hold", "/inventory/release")),
    ServiceSpec("marketplace", 14, 0.070, 0.003, ("/listings", "/listings/{id}/buy"), domains=("marketplace",)),
    ServiceSpec("search", 35, 0.045, 0.002, ("/search",), db=False),
    ServiceSpec("notification", 9, 0.050, 0.005, ("/notify",), domains=("notifications",)),
    ServiceSpec("email", 6, 0.120, 0.006, ("/send",), db=False),
    ServiceSpec("analytics", 5, 0.200, 0.002, ("/events/ingest", "/reports")),
    ServiceSpec("fraud-detection", 10, 0.090, 0.001, ("/score",), db=False),
    ServiceSpec("blockchain", 4, 0.600, 0.010, ("/tx/submit", "/tx/{sig}"), db=False, domains=("blockchain",)),
    ServiceSpec("nft-minting", 3, 0.900, 0.010, ("/mint",), domains=("blockchain",)),
    ServiceSpec("wallet", 6, 0.150, 0.004, ("/wallets/{id}", "/wallets/{id}/transfer")),
    ServiceSpec("scanner", 11, 0.020, 0.001, ("/scan",), db=False),
)

BY_NAME = {spec.name: spec for spec in SERVICES}

LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
DB_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0)
SOLANA_BUCKETS = (0.25, 0.5, 1.0, 2.0, 4.0, 8.0, 16.0, 32.0)
EVENT_TYPES = ("concert", "sports", "theater", "festival")
PAYMENT_PROVIDERS = ("stripe", "paypal", "solana_pay")
NFT_COLLECTIONS = ("season-pass", "vip-access", "collectible-stub")
NOTIFY_CHANNELS = ("email", "sms", "push")

RULE_FILE = Path(__file__).parent / "rules.yml"
"""The demo platform's alert rules (the seed's pack), loaded alongside `rule_files` with `--demo`."""
