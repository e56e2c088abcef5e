"""Which addresses Nightowl may connect to on a user's behalf, judged after DNS resolution.

Editors aim checks, channels, webhooks and forwarders at URLs; without a policy that makes the server a
proxy into its own network (cloud metadata, loopback admin ports, the private LAN). Link-local and cloud
metadata addresses are never reachable; loopback, private and special-purpose ranges only when a setting
allows them. Addresses are judged after resolution, in every spelling (`2852039166`, `0xa9fea9fe`,
`::ffff:169.254.169.254`), because the resolver turns each of those into the same address.
"""

from __future__ import annotations

import asyncio
import ipaddress
import logging
import socket
from collections.abc import Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Literal

import httpx

if TYPE_CHECKING:
    from nightowl.config import Settings

log = logging.getLogger("nightowl.outbound")

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
Network = ipaddress.IPv4Network | ipaddress.IPv6Network
Category = Literal["link-local", "cloud metadata", "loopback", "private", "special-purpose", "public"]
Resolver = Callable[[str, int], Awaitable[list[str]]]


Ranges = tuple[tuple[int, int, int], ...]
"""(IP version, first address, last address) as integers: membership is two comparisons."""


def _nets(*cidrs: str) -> Ranges:
    networks = [ipaddress.ip_network(c) for c in cidrs]
    return tuple((n.version, int(n.network_address), int(n.broadcast_address)) for n in networks)


METADATA = _nets(
    "169.254.169.254/32",  # AWS, GCP, Azure, OpenStack, Oracle (also covered by link-local)
    "fd00:ec2::254/128",  # AWS over IPv6
    "100.100.100.200/32",  # Alibaba Cloud
    "168.63.129.16/32",  # Azure WireServer
)
LINK_LOCAL = _nets("169.254.0.0/16", "fe80::/10")
LOOPBACK = _nets("127.0.0.0/8", "::1/128")
PRIVATE = _nets("10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "100.64.0.0/10", "fc00::/7", "fec0::/10")
SPECIAL = _nets(
    "0.0.0.0/8",  # "this network": 0.0.0.0 reaches the local host on Linux
    "192.0.0.0/24",
    "192.0.2.0/24",
    "198.18.0.0/15",
    "198.51.100.0/24",
    "203.0.113.0/24",
    "224.0.0.0/4",
    "240.0.0.0/4",  # includes 255.255.255.255
    "::/128",
    "100::/64",
    "2001:db8::/32",
    "ff00::/8",
)

_NAT64_PREFIX = ipaddress.IPv6Address("64:ff9b::").packed[:12]
_COMPATIBLE_PREFIX = bytes(12)  # ::a.b.c.d, the deprecated IPv4-compatible form

HINTS: dict[Category, str] = {
    "link-local": "never allowed",
    "cloud metadata": "never allowed",
    "loopback": "set outbound_allow_loopback",
    "private": "set outbound_allow_private",
    "special-purpose": "list it in outbound_allow_cidrs",
}


class OutboundDenied(httpx.ConnectError):
    """The destination is refused by the policy; the message says which setting would allow it.

    An `httpx.ConnectError`, so every sender that handles a failed connection handles this one too.
    """

    def __init__(self, message: str, *, address: str = "") -> None:
        super().__init__(message)
        self.address = address


def _embedded_ipv4(address: ipaddress.IPv6Address) -> ipaddress.IPv4Address | None:
    """The IPv4 address an IPv6 one carries and reaches: mapped, compatible, NAT64, 6to4."""
    if address.ipv4_mapped is not None:
        return address.ipv4_mapped
    if address.sixtofour is not None:
        return address.sixtofour
    packed = address.packed
    if packed[:12] in (_NAT64_PREFIX, _COMPATIBLE_PREFIX) and packed[12:] != bytes(4):
        return ipaddress.IPv4Address(packed[12:])
    return None


def _in(address: IPAddress, networks: Iterable[Network]) -> bool:
    return any(address.version == n.version and address in n for n in networks)


def _within(address: IPAddress, ranges: Ranges) -> bool:
    version, value = address.version, int(address)
    return any(v == version and first <= value <= last for v, first, last in ranges)


def classify(address: IPAddress) -> Category:
    """The most restrictive category of an address, looking through IPv6 forms that carry an IPv4 one."""
    categories = [_category(address)]
    if isinstance(address, ipaddress.IPv6Address):
        inner = _embedded_ipv4(address.__class__(address.packed))  # without the zone id
        if inner is not None:
            categories.append(_category(inner))
    order: list[Category] = ["cloud metadata", "link-local", "loopback", "special-purpose", "private", "public"]
    return min(categories, key=order.index)


def _category(address: IPAddress) -> Category:
    if _within(address, METADATA):
        return "cloud metadata"
    if _within(address, LINK_LOCAL):
        return "link-local"
    if _within(address, LOOPBACK):
        return "loopback"
    if _within(address, SPECIAL):
        return "special-purpose"
    if _within(address, PRIVATE):
        return "private"
    return "public"


async def system_resolver(host: str, port: int) -> list[str]:
    """Every address the system resolver gives for a host name (an IP literal, in any spelling, too)."""
    infos = await asyncio.get_running_loop().getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return list(dict.fromkeys(str(info[4][0]) for info in infos))


def parse_allow_list(entries: Sequence[str]) -> tuple[tuple[Network, ...], frozenset[str]]:
    """`outbound_allow_cidrs` entries: CIDRs or single addresses, and host names (exact, any case)."""
    networks: list[Network] = []
    hosts: set[str] = set()
    for entry in entries:
        text = entry.strip()
        try:
            networks.append(ipaddress.ip_network(text, strict=False))
        except ValueError:
            hosts.add(text.lower().rstrip("."))
    return tuple(networks), frozenset(hosts)


@dataclass(frozen=True)
class OutboundPolicy:
    """Allowances on top of the fixed rules; `resolver` is the seam tests use to fake DNS answers."""

    allow_loopback: bool = False
    allow_private: bool = False
    allow_networks: tuple[Network, ...] = ()
    allow_hosts: frozenset[str] = frozenset()
    resolver: Resolver = field(default=system_resolver, compare=False)

    @classmethod
    def from_settings(cls, settings: Settings, also_allow: Sequence[str] = ()) -> OutboundPolicy:
        networks, hosts = parse_allow_list([*settings.outbound_allow_cidrs, *also_allow])
        return cls(settings.outbound_allow_loopback, settings.outbound_allow_private, networks, hosts)

    @classmethod
    def allowing_all_local(cls) -> OutboundPolicy:
        """Loopback and private allowed (link-local and metadata still not): tests and trusted set-ups."""
        return cls(allow_loopback=True, allow_private=True)

    def denial(self, host: str, address: IPAddress) -> str | None:
        """Why `address` (reached through `host`) may not be used, as a sentence for the user; None if it may."""
        category = classify(address)
        if category == "public":
            return None
        if category not in ("link-local", "cloud metadata"):
            if host.lower().rstrip(".") in self.allow_hosts or _in(address, self.allow_networks):
                return None
            if category == "loopback" and self.allow_loopback:
                return None
            if category == "private" and self.allow_private:
                return None
        literal = _literal(host)
        where = f"{host} is" if literal is not None else f"{host} resolves to"
        return f"destination not allowed by the outbound policy: {where} a {category} address ({HINTS[category]})"

    async def resolve(self, host: str, port: int) -> list[str]:
        """The addresses to connect to for `host`, all of them allowed; raises OutboundDenied or OSError.

        Connect to these, never to `host` again: a second lookup could answer differently (DNS rebinding).
        """
        literal = _literal(host)
        if literal is not None:
            texts = [str(literal)]
        else:
            texts = await self.resolver(host, port)
        if not texts:
            raise socket.gaierror(socket.EAI_NONAME, f"{host} has no address")
        for text in texts:
            address = ipaddress.ip_address(text.split("%", 1)[0])
            reason = self.denial(host, address)
            if reason is not None:
                log.warning("outbound destination denied", extra={"host": host, "address": text, "reason": reason})
                raise OutboundDenied(reason, address=text)
        return texts


def _literal(host: str) -> IPAddress | None:
    try:
        return ipaddress.ip_address(host.strip("[]").split("%", 1)[0])
    except ValueError:
        return None
