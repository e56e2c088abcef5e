"""HTTP(S): method, headers, body, expected status codes, keyword and JSON-path assertions, redirects."""

from __future__ import annotations

import json
import ssl
from typing import Any

import httpx

from nightowl.health.checkers.base import ProbeContext, cert_expiry, connect_timeout, describe_error
from nightowl.health.jsonpath import lookup, values_equal
from nightowl.health.model import Probe
from nightowl.health.spec import Assertion, CheckSpec, status_matches

MAX_BODY_BYTES = 1024 * 1024
"""Assertions look at the first MiB of the body; a check is not a download."""


async def check_http(spec: CheckSpec, ctx: ProbeContext) -> Probe:
    client = ctx.http.get(spec.verify_tls, spec.ca_file)
    started = ctx.clock.monotonic()
    try:
        async with client.stream(
            spec.method,
            spec.target,
            headers=spec.headers,
            content=spec.body.encode() if spec.body is not None else None,
            follow_redirects=spec.follow_redirects,
            timeout=httpx.Timeout(spec.timeout, connect=connect_timeout(spec.timeout)),
        ) as response:
            body = bytearray()
            async for chunk in response.aiter_bytes():
                body += chunk
                if len(body) >= MAX_BODY_BYTES:
                    break
            latency = ctx.clock.monotonic() - started
            expiry = _peer_cert_expiry(response)
    except (httpx.ConnectError, httpx.ConnectTimeout) as exc:
        return Probe(ok=False, latency=ctx.clock.monotonic() - started, error=describe_error(exc, _host(spec.target)))
    except httpx.TimeoutException:
        return Probe(ok=False, latency=ctx.clock.monotonic() - started, error=f"timed out after {spec.timeout:g}s")
    except httpx.HTTPError as exc:
        return Probe(ok=False, latency=ctx.clock.monotonic() - started, error=describe_error(exc, _host(spec.target)))
    detail: dict[str, str | int | float | None] = {"status_code": response.status_code}
    if not status_matches(response.status_code, spec.expected_status):
        expected = ", ".join(spec.expected_status)
        return Probe(
            ok=False,
            latency=latency,
            error=f"status {response.status_code} (expected {expected})",
            tls_expiry=expiry,
            detail=detail,
        )
    hard, soft = _assertion_failures(spec.assertions, bytes(body))
    if hard:
        return Probe(ok=False, latency=latency, error="; ".join(hard), tls_expiry=expiry, detail=detail)
    return Probe(ok=True, latency=latency, soft_failures=tuple(soft), tls_expiry=expiry, detail=detail)


def _host(url: str) -> str:
    """The URL's host for the server log, without credentials a URL may carry."""
    try:
        return httpx.URL(url).host
    except httpx.InvalidURL:
        return ""


def _peer_cert_expiry(response: httpx.Response) -> float | None:
    stream: Any = response.extensions.get("network_stream")
    if stream is None:
        return None
    ssl_object = stream.get_extra_info("ssl_object")
    if not isinstance(ssl_object, ssl.SSLObject | ssl.SSLSocket):
        return None
    return cert_expiry(ssl_object.getpeercert(binary_form=True))


def _assertion_failures(assertions: list[Assertion], body: bytes) -> tuple[list[str], list[str]]:
    """(hard failures, soft failures), each a sentence naming the assertion."""
    hard: list[str] = []
    soft: list[str] = []
    text: str | None = None
    document: Any = None
    parsed = False
    for assertion in assertions:
        failure: str | None = None
        if assertion.type in ("keyword", "not_keyword"):
            if text is None:
                text = body.decode("utf-8", errors="replace")
            present = assertion.value in text
            if assertion.type == "keyword" and not present:
                failure = f"keyword {assertion.value!r} not found"
            elif assertion.type == "not_keyword" and present:
                failure = f"keyword {assertion.value!r} found"
        else:
            if not parsed:
                parsed = True
                try:
                    document = json.loads(body)
                except ValueError:
                    document = None
            failure = _json_failure(assertion, document)
        if failure is not None:
            (soft if assertion.soft else hard).append(failure)
    return hard, soft


def _json_failure(assertion: Assertion, document: Any) -> str | None:
    if document is None:
        return f"{assertion.path}: body is not JSON"
    found, value = lookup(document, assertion.path)
    if not found:
        return f"{assertion.path} not found"
    if assertion.equals is not None and not values_equal(value, assertion.equals):
        return f"{assertion.path} is {value!r}, expected {assertion.equals!r}"
    return None
