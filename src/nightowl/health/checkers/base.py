"""What every checker is given, and how a failure is said in one line."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from nightowl.core.clock import Clock
from nightowl.health.outbound import HttpClients
from nightowl.outbound import OutboundPolicy, public_error


@dataclass
class ProbeContext:
    """The clock, and where checks may connect: `policy` judges every destination, `http` applies it."""

    clock: Clock
    policy: OutboundPolicy = field(default_factory=OutboundPolicy)
    http: HttpClients = field(init=False)

    def __post_init__(self) -> None:
        self.http = HttpClients(self.policy)


CONNECT_SHARE = 0.9
"""Share of a check's timeout a connect may take: a port that never answers then fails as a connect
("connection failed", like a refused one) before the run's timeout would say "timed out"."""


def connect_timeout(timeout: float) -> float:
    return timeout * CONNECT_SHARE


def describe_error(exc: BaseException, target: str = "") -> str:
    """A short, stable sentence for a failed probe (shown as `last_error`); no port-scanner detail."""
    return public_error(exc, where=target)


def cert_expiry(der: bytes | None) -> float | None:
    """notAfter of a DER certificate as a Unix timestamp, or None when there is none."""
    if not der:
        return None
    from cryptography import x509  # on first use: ~4 MiB a server without TLS checks need not hold

    expires: datetime = x509.load_der_x509_certificate(der).not_valid_after_utc
    return expires.timestamp()
