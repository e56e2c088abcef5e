"""The remote backend's settings as one plain value, checked once when the runtime builds the backend."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from urllib.parse import unquote, urlsplit, urlunsplit

from nightowl.config import Settings
from nightowl.core.errors import ConfigError


@dataclass(frozen=True, repr=False)
class RemoteConfig:
    """Where the Prometheus-compatible store is and how to talk to it. Secrets stay out of `repr` and URLs."""

    url: str
    write_url: str
    username: str | None = None
    password: str | None = None
    bearer_token: str | None = None
    timeout_s: float = 30.0
    tls_insecure: bool = False
    queue_max_samples: int = 1_000_000
    batch_max_samples: int = 5000
    min_backoff_s: float = 0.05
    max_backoff_s: float = 10.0
    flush_timeout_s: float = 30.0

    def __repr__(self) -> str:
        auth = "bearer" if self.bearer_token else f"basic:{self.username}" if self.username else "none"
        return f"RemoteConfig(url={self.url!r}, write_url={self.write_url!r}, auth={auth})"

    def __post_init__(self) -> None:
        """Credentials in a URL move to username/password, so no URL Nightowl logs or sends carries them."""
        url, user, password = split_userinfo(self.url)
        write_url, write_user, write_password = split_userinfo(self.write_url)
        object.__setattr__(self, "url", url)
        object.__setattr__(self, "write_url", write_url)
        if self.username is None and self.bearer_token is None:
            object.__setattr__(self, "username", user or write_user)
            object.__setattr__(self, "password", self.password or password or write_password)

    @classmethod
    def for_url(cls, url: str, **options: Any) -> RemoteConfig:
        """A config for `url` with the write endpoint at its usual place (tests and tools)."""
        base = url.rstrip("/")
        return cls(url=base, write_url=f"{base}/api/v1/write", **options)

    @classmethod
    def from_settings(cls, settings: Settings) -> RemoteConfig:
        if not settings.metrics_url:
            raise ConfigError("metrics_url is not set")
        base = _checked_url("metrics_url", settings.metrics_url).rstrip("/")
        write_url = _checked_url("metrics_write_url", settings.metrics_write_url or f"{base}/api/v1/write")
        password = settings.metrics_password.get_secret_value() if settings.metrics_password else None
        token = settings.metrics_bearer_token.get_secret_value() if settings.metrics_bearer_token else None
        if token and (settings.metrics_username or password):
            raise ConfigError("set either metrics_username/metrics_password or metrics_bearer_token, not both")
        if password and not settings.metrics_username:
            raise ConfigError("metrics_password is set but metrics_username is not")
        if settings.metrics_retry_min_backoff > settings.metrics_retry_max_backoff:
            raise ConfigError(
                f"metrics_retry_min_backoff={settings.metrics_retry_min_backoff} must not exceed "
                f"metrics_retry_max_backoff={settings.metrics_retry_max_backoff}"
            )
        return cls(
            url=base,
            write_url=write_url,
            username=settings.metrics_username,
            password=password,
            bearer_token=token,
            timeout_s=settings.metrics_timeout,
            tls_insecure=settings.metrics_tls_insecure,
            queue_max_samples=settings.metrics_queue_max_samples,
            batch_max_samples=min(settings.metrics_batch_max_samples, settings.metrics_queue_max_samples),
            min_backoff_s=settings.metrics_retry_min_backoff,
            max_backoff_s=settings.metrics_retry_max_backoff,
            flush_timeout_s=settings.metrics_flush_timeout,
        )


def _checked_url(key: str, url: str) -> str:
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ConfigError(f"invalid configuration: {key}={redact_url(url)!r}: must be an http:// or https:// URL")
    return url


def redact_url(url: str) -> str:
    """The URL as logs and errors may show it: a password in the userinfo becomes `***`."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    host = parts.hostname or ""
    if parts.port is not None:
        host = f"{host}:{parts.port}"
    return urlunsplit(parts._replace(netloc=f"{parts.username}:***@{host}"))


def split_userinfo(url: str) -> tuple[str, str | None, str | None]:
    """`http://user:pass@host/x` -> (`http://host/x`, user, pass), percent-decoded."""
    parts = urlsplit(url)
    if parts.username is None:
        return url, None, None
    host = parts.hostname or ""
    if ":" in host:
        host = f"[{host}]"
    if parts.port is not None:
        host = f"{host}:{parts.port}"
    return urlunsplit(parts._replace(netloc=host)), unquote(parts.username), unquote(parts.password or "") or None
