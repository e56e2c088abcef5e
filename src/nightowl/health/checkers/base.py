"""What every checker is given, and how a failure is said in one line."""

from __future__ import annotations

import ssl
from dataclasses import dataclass, field
from datetime import datetime

from nightowl.core.clock import Clock
from nightowl.health.outbound import HttpClients


@dataclass
class ProbeContext:
    clock: Clock
    http: HttpClients = field(default_factory=HttpClients)


def root_cause(exc: BaseException) -> BaseException:
    """The innermost OS-level error behind a wrapped one (httpx and anyio wrap the refused connection)."""
    seen: set[int] = set()
    current: BaseException | None = exc
    found = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if isinstance(current, OSError | ssl.SSLError):
            found = current
        if isinstance(current, BaseExceptionGroup) and current.exceptions:
            current = current.exceptions[0]
        else:
            current = current.__cause__ or current.__context__
    return found


def describe_error(exc: BaseException) -> str:
    """A short, stable sentence for a failed probe (shown as `last_error`)."""
    exc = root_cause(exc)
    if isinstance(exc, ConnectionRefusedError):
        return "connection refused"
    if isinstance(exc, ssl.SSLCertVerificationError):
        return f"TLS certificate not trusted: {exc.verify_message}"
    if isinstance(exc, TimeoutError):
        return "timed out"
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


def cert_expiry(der: bytes | None) -> float | None:
    """notAfter of a DER certificate as a Unix timestamp, or None when there is none."""
    if not der:
        return None
    from cryptography import x509  # on first use: ~4 MiB a server without TLS checks need not hold

    expires: datetime = x509.load_der_x509_certificate(der).not_valid_after_utc
    return expires.timestamp()
