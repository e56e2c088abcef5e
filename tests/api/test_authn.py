"""Which credential a request carries: pure parsing of the headers, in the order the gate reads them."""

from __future__ import annotations

import base64

from nightowl.api.authn import credential_from
from nightowl.auth.gate import Credential, ip_in, parse_networks


def basic(user: str, password: str) -> str:
    return "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()


def test_credentials_in_order_of_precedence() -> None:
    assert credential_from({}) is None
    assert credential_from({"authorization": "Bearer abc"}) == Credential("bearer", "abc")
    assert credential_from({"authorization": "bearer  abc "}) == Credential("bearer", "abc")
    assert credential_from({"authorization": basic("grafana", "nok_x:y")}) == Credential("basic", "nok_x:y")
    assert credential_from({"authorization": basic("", "nok_k")}) == Credential("basic", "nok_k")
    assert credential_from({"x-api-key": "nok_k"}) == Credential("api-key-header", "nok_k")
    assert credential_from({"cookie": "a=b; nightowl_session=jwt"}) == Credential("cookie", "jwt")
    both = {"authorization": "Bearer first", "x-api-key": "second", "cookie": "nightowl_session=third"}
    assert credential_from(both) == Credential("bearer", "first")


def test_malformed_credentials_are_empty_not_errors() -> None:
    assert credential_from({"authorization": "Basic %%%"}) == Credential("basic", "")
    assert credential_from({"authorization": "Negotiate xyz"}) == Credential("bearer", "")
    assert credential_from({"cookie": '"broken'}) is None


def test_ip_allowlist_matching() -> None:
    networks = parse_networks(["10.0.0.1", "10.0.1.0/24", "fd00::/8"])
    assert ip_in("10.0.0.1", networks) and ip_in("10.0.1.200", networks) and ip_in("fd00::1", networks)
    assert not ip_in("10.0.0.2", networks) and not ip_in("not-an-ip", networks) and not ip_in(None, networks)
