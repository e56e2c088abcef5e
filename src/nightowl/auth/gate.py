"""The gate every request passes: which paths are public, who the caller is, and whether they may go on.

HTTP specifics (headers, cookies) stay in `api/authn.py`; this module works on plain values.
"""

from __future__ import annotations

import ipaddress
import logging
from dataclasses import dataclass, field
from typing import Literal

from sqlalchemy import Engine

from nightowl.auth import audit, keys, sessions
from nightowl.auth.principal import Principal
from nightowl.auth.ratelimit import Decision, FailureLimiter, FailureWindow, RateLimiter, TokenBuckets
from nightowl.config import Settings
from nightowl.core.clock import Clock
from nightowl.core.scheduler import Job

log = logging.getLogger(__name__)

ALWAYS_PUBLIC = frozenset({"/docs", "/redoc", "/openapi.json", "/api/v1/auth/login", "/api/v1/auth/refresh"})
# Heartbeat pings (the uuid is the secret), status pages (private ones check `read` themselves) and the
# simulated demo services (their /metrics are scraped like any exporter's) need no credentials.
PUBLIC_PREFIXES = ("/docs-assets/", "/ping/", "/status-pages/", "/demo/")
HEALTH_PATHS = frozenset({"/health", "/ready", "/status", "/prometheus/-/healthy", "/prometheus/-/ready"})
METRICS_PATH = "/metrics"

CredentialSource = Literal["bearer", "basic", "api-key-header", "cookie"]
IpNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network


@dataclass(frozen=True)
class Credential:
    source: CredentialSource
    token: str


def parse_networks(entries: list[str]) -> list[IpNetwork]:
    """`10.0.0.1` or `10.0.0.0/24` (IPv4 or IPv6); raise ValueError naming a bad entry."""
    networks = []
    for entry in entries:
        try:
            networks.append(ipaddress.ip_network(entry.strip(), strict=False))
        except ValueError:
            raise ValueError(f"{entry!r} is not an IP address or network (e.g. 10.0.0.1 or 10.0.0.0/24)") from None
    return networks


def ip_in(ip: str | None, networks: list[IpNetwork]) -> bool:
    if not ip:
        return False
    try:
        address = ipaddress.ip_address(ip)
    except ValueError:
        return False
    return any(address in network for network in networks)


@dataclass
class Gate:
    """Authenticates credentials and holds the request and login limiters of one instance."""

    settings: Settings
    engine: Engine
    clock: Clock
    signer: sessions.TokenSigner
    limiter: RateLimiter = field(init=False)
    user_failures: FailureLimiter = field(init=False)
    ip_failures: FailureLimiter = field(init=False)
    metrics_networks: list[IpNetwork] = field(init=False)
    anonymous: Principal | None = field(init=False)

    def __post_init__(self) -> None:
        s = self.settings
        self.limiter = TokenBuckets(self.clock)
        self.user_failures = FailureWindow(self.clock, s.login_max_failures, s.login_failure_window)
        self.ip_failures = FailureWindow(self.clock, s.login_max_failures_per_ip, s.login_failure_window)
        self.metrics_networks = parse_networks(s.metrics_allow)
        granted = frozenset(s.anonymous_permissions)
        self.anonymous = Principal("anonymous", "anonymous-access", granted) if granted else None

    def is_public(self, path: str) -> bool:
        if path in ALWAYS_PUBLIC or path.startswith(PUBLIC_PREFIXES):
            return True
        return self.settings.public_health and path in HEALTH_PATHS

    def metrics_open_to(self, client_ip: str | None) -> bool:
        return self.settings.metrics_public or ip_in(client_ip, self.metrics_networks)

    def authenticate(self, credential: Credential) -> Principal | None:
        """The caller behind a credential, or None. HTTP Basic carries API keys only (no argon2 per request)."""
        token = credential.token
        if keys.looks_like_key(token):
            return keys.authenticate_key(self.engine, self.clock, token)
        if credential.source in ("bearer", "cookie"):
            return sessions.authenticate_access_token(self.engine, self.clock, self.signer, token)
        return None

    def limit_key(self, principal: Principal) -> Decision | None:
        per_hour = principal.rate_limit or self.settings.rate_limit_per_key
        return self.limiter.hit(f"key:{principal.id}", per_hour) if per_hour else None

    def limit_ip(self, client_ip: str | None) -> Decision | None:
        per_hour = self.settings.rate_limit_per_ip
        return self.limiter.hit(f"ip:{client_ip or 'unknown'}", per_hour) if per_hour else None

    def login_locked_for(self, username: str, client_ip: str | None) -> float:
        return max(self.user_failures.locked_for(username), self.ip_failures.locked_for(client_ip or "unknown"))

    def login_failed(self, username: str, client_ip: str | None) -> None:
        self.user_failures.fail(username)
        self.ip_failures.fail(client_ip or "unknown")

    def login_succeeded(self, username: str) -> None:
        self.user_failures.reset(username)

    def cleanup(self) -> None:
        """Drop ended login sessions and audit entries past `audit_retention_days`."""
        removed = sessions.prune_sessions(self.engine, self.clock)
        days = self.settings.audit_retention_days
        expired = audit.prune(self.engine, self.clock.now() - days * 86400) if days else 0
        if removed or expired:
            log.info("auth cleanup", extra={"sessions_removed": removed, "audit_entries_removed": expired})

    def jobs(self) -> list[Job]:
        return [
            Job(
                "auth-cleanup",
                self.cleanup,
                interval=3600,
                timeout=300,
                jitter=60,
                description="Delete ended login sessions and audit entries older than audit_retention_days.",
            )
        ]
