"""The one HTTP seam to the remote store: Prometheus API calls in, remote write out, errors mapped once.

Every failure becomes a `NightowlError` a client can act on: a query the remote refuses is the caller's
`InvalidInput` (422); an unreachable, slow or failing remote is `Unavailable` (503).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

import httpx

from nightowl.core.errors import InvalidInput, NightowlError, Unavailable
from nightowl.metrics.remote.config import RemoteConfig

Params = list[tuple[str, str]]
_FORM = {"Content-Type": "application/x-www-form-urlencoded"}


def build_client(config: RemoteConfig, transport: httpx.BaseTransport | None = None) -> httpx.Client:
    """The httpx client for both directions: auth, timeouts and TLS from the config, no redirects."""
    auth: httpx.Auth | None = None
    headers = {"User-Agent": "nightowl"}
    if config.bearer_token:
        headers["Authorization"] = f"Bearer {config.bearer_token}"
    elif config.username:
        auth = httpx.BasicAuth(config.username, config.password or "")
    return httpx.Client(
        auth=auth,
        headers=headers,
        timeout=httpx.Timeout(config.timeout_s, connect=min(config.timeout_s, 10.0)),
        verify=not config.tls_insecure,
        transport=transport,
        follow_redirects=False,
    )


@dataclass
class Answer:
    """The `data` of a successful API answer, with the warnings and infos the remote attached."""

    data: Any
    warnings: list[str] = field(default_factory=list)
    infos: list[str] = field(default_factory=list)


class RemoteAPI:
    """Calls the Prometheus HTTP API (`/api/v1/...`) of the remote and returns the `data` of its answer."""

    def __init__(self, config: RemoteConfig, client: httpx.Client) -> None:
        self.config = config
        self.client = client
        self.where = config.url

    def call(
        self,
        path: str,
        params: Params,
        *,
        timeout_s: float | None = None,
        field: str | None = None,
        method: str = "POST",
    ) -> Answer:
        """POST the parameters form-encoded (no URL length limit for long selectors) where the API allows."""
        response = self._send(method, path, params, timeout_s)
        return self._answer(response, path, field)

    def call_no_content(self, path: str, params: Params) -> None:
        """For the admin endpoints that answer 204 without a body."""
        response = self._send("POST", path, params, None)
        if response.status_code >= 300:
            self._answer(response, path, None)

    def _send(self, method: str, path: str, params: Params, timeout_s: float | None) -> httpx.Response:
        url = f"{self.config.url}{path}"
        # The remote enforces the query timeout itself; give its answer a little longer to arrive.
        timeout = httpx.Timeout(timeout_s + 5.0, connect=10.0) if timeout_s else self.client.timeout
        try:
            if method == "GET":
                return self.client.get(f"{url}?{urlencode(params)}", timeout=timeout)
            return self.client.post(url, content=urlencode(params), headers=_FORM, timeout=timeout)
        except httpx.TimeoutException:
            raise Unavailable(f"the remote metrics store at {self.where} did not answer {path} in time") from None
        except httpx.HTTPError as exc:
            raise Unavailable(f"cannot reach the remote metrics store at {self.where}: {exc}") from None

    def _answer(self, response: httpx.Response, path: str, field: str | None) -> Answer:
        try:
            body = response.json()
        except (json.JSONDecodeError, UnicodeDecodeError):
            body = None
        if not isinstance(body, dict):
            raise remote_error(self.where, path, response, response.text[:300], None, field)
        if response.status_code >= 400 or body.get("status") != "success":
            message = str(body.get("error") or response.text[:300])
            raise remote_error(self.where, path, response, message, body.get("errorType"), field)
        return Answer(body.get("data"), list(body.get("warnings") or []), list(body.get("infos") or []))


def remote_error(
    where: str, path: str, response: httpx.Response, message: str, error_type: object, field: str | None
) -> NightowlError:
    """Map an error answer of the remote: the caller's fault (4xx) or the remote's (everything else)."""
    status = response.status_code
    if status in (400, 422) or (error_type in ("bad_data", "execution") and status < 500):
        return InvalidInput(f"the remote metrics store refused the request: {message}", field=field)
    if status in (401, 403):
        return Unavailable(
            f"the remote metrics store at {where} refused Nightowl's credentials on {path} (HTTP {status}): "
            f"{message}; check metrics_username/metrics_password or metrics_bearer_token"
        )
    headers = {"Retry-After": response.headers["Retry-After"]} if "Retry-After" in response.headers else None
    return Unavailable(
        f"the remote metrics store at {where} failed on {path} (HTTP {status}): {message}", headers=headers
    )
