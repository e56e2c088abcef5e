"""The outbound policy judges addresses after resolution: every spelling of a denied address is denied."""

from __future__ import annotations

import ipaddress
import socket

import pytest

from nightowl.config import load_settings
from nightowl.core.errors import ConfigError
from nightowl.outbound import OutboundDenied, OutboundPolicy
from nightowl.outbound.policy import classify, parse_allow_list

METADATA_SPELLINGS = [
    "169.254.169.254",
    "2852039166",  # decimal
    "0251.0376.0251.0376",  # octal
    "0xa9.0xfe.0xa9.0xfe",  # hex per byte
    "0xa9fea9fe",  # hex
    "169.254.43518",  # the last two bytes as one number
    "::ffff:169.254.169.254",  # IPv4-mapped IPv6
    "[::ffff:a9fe:a9fe]",
    "64:ff9b::a9fe:a9fe",  # NAT64
    "2002:a9fe:a9fe::1",  # 6to4
]


@pytest.mark.parametrize("host", METADATA_SPELLINGS)
async def test_every_spelling_of_the_metadata_address_is_denied_even_with_every_allowance(host: str) -> None:
    policy = OutboundPolicy(
        allow_loopback=True,
        allow_private=True,
        allow_networks=(ipaddress.ip_network("0.0.0.0/0"), ipaddress.ip_network("::/0")),
        allow_hosts=frozenset({host.lower()}),
    )
    with pytest.raises(OutboundDenied, match="never allowed"):
        await policy.resolve(host, 80)


@pytest.mark.parametrize(
    ("address", "category"),
    [
        ("127.0.0.1", "loopback"),
        ("127.9.9.9", "loopback"),
        ("::1", "loopback"),
        ("::ffff:127.0.0.1", "loopback"),
        ("10.1.2.3", "private"),
        ("172.16.0.1", "private"),
        ("172.31.255.255", "private"),
        ("192.168.1.1", "private"),
        ("100.64.0.1", "private"),
        ("fd12:3456::1", "private"),
        ("fe80::1", "link-local"),
        ("169.254.1.1", "link-local"),
        ("fd00:ec2::254", "cloud metadata"),
        ("100.100.100.200", "cloud metadata"),
        ("168.63.129.16", "cloud metadata"),
        ("0.0.0.0", "special-purpose"),
        ("::", "special-purpose"),
        ("224.0.0.1", "special-purpose"),
        ("255.255.255.255", "special-purpose"),
        ("ff02::1", "special-purpose"),
        ("8.8.8.8", "public"),
        ("172.32.0.1", "public"),
        ("2606:4700:4700::1111", "public"),
    ],
)
def test_classify(address: str, category: str) -> None:
    assert classify(ipaddress.ip_address(address)) == category


async def test_loopback_and_private_need_their_setting() -> None:
    strict = OutboundPolicy()
    with pytest.raises(OutboundDenied, match=r"127\.0\.0\.1 is a loopback address \(set outbound_allow_loopback\)"):
        await strict.resolve("127.0.0.1", 80)
    with pytest.raises(OutboundDenied, match=r"a private address \(set outbound_allow_private\)"):
        await strict.resolve("10.0.0.5", 80)
    assert await OutboundPolicy(allow_loopback=True).resolve("127.0.0.1", 80) == ["127.0.0.1"]
    assert await OutboundPolicy(allow_private=True).resolve("10.0.0.5", 80) == ["10.0.0.5"]
    with pytest.raises(OutboundDenied):
        await OutboundPolicy(allow_private=True).resolve("127.0.0.1", 80)


async def test_a_name_is_judged_by_what_it_resolves_to() -> None:
    """`localhost` is a name: the system resolver answers loopback, which the default policy refuses."""
    with pytest.raises(OutboundDenied, match="localhost resolves to a loopback address"):
        await OutboundPolicy().resolve("localhost", 80)


async def test_one_denied_answer_denies_the_name() -> None:
    async def mixed(host: str, port: int) -> list[str]:
        return ["93.184.215.14", "169.254.10.1"]

    with pytest.raises(OutboundDenied, match="resolves to a link-local address"):
        await OutboundPolicy(resolver=mixed).resolve("mixed.test", 80)


async def test_allow_list_takes_networks_and_host_names_but_not_link_local() -> None:
    async def internal(host: str, port: int) -> list[str]:
        return {"db.internal": ["10.9.0.7"], "meta.internal": ["169.254.169.254"]}[host]

    networks, hosts = parse_allow_list(["10.1.0.0/16", "192.0.2.7", "DB.internal."])
    policy = OutboundPolicy(allow_networks=networks, allow_hosts=hosts, resolver=internal)
    assert await policy.resolve("10.1.200.3", 80) == ["10.1.200.3"]
    assert await policy.resolve("192.0.2.7", 80) == ["192.0.2.7"]  # documentation range: special-purpose
    assert await policy.resolve("db.internal", 5432) == ["10.9.0.7"]
    with pytest.raises(OutboundDenied):
        await policy.resolve("10.2.0.1", 80)
    meta = OutboundPolicy(allow_hosts=frozenset({"meta.internal"}), resolver=internal)
    with pytest.raises(OutboundDenied, match="never allowed"):
        await meta.resolve("meta.internal", 80)


async def test_public_addresses_are_allowed_and_unresolvable_names_fail_as_dns_errors() -> None:
    assert await OutboundPolicy().resolve("8.8.8.8", 53) == ["8.8.8.8"]
    with pytest.raises(socket.gaierror):
        await OutboundPolicy().resolve("no-such-host.invalid", 80)


def test_settings_build_the_policy_and_reject_a_bad_allow_list(tmp_path) -> None:  # type: ignore[no-untyped-def]
    settings = load_settings(
        None,
        data_dir=tmp_path,
        outbound_allow_private=True,
        outbound_allow_cidrs="10.0.0.0/8, db.internal",
    )
    policy = OutboundPolicy.from_settings(settings)
    assert policy.allow_private and not policy.allow_loopback
    assert policy.allow_networks == (ipaddress.ip_network("10.0.0.0/8"),)
    assert policy.allow_hosts == frozenset({"db.internal"})
    defaults = load_settings(None, data_dir=tmp_path)
    assert (defaults.outbound_allow_loopback, defaults.outbound_allow_private, defaults.outbound_allow_cidrs) == (
        False,
        False,
        [],
    )
    with pytest.raises(ConfigError, match="outbound_allow_cidrs.*'not a host!' is neither a network"):
        load_settings(None, data_dir=tmp_path, outbound_allow_cidrs="not a host!")
