"""Connections under the policy for what is not HTTP (TCP, TLS, Redis, PostgreSQL), and the one way a
failed connection is told to the user.

The user sees "connection failed" whether the port refused, the host was unreachable or the connect
timed out: telling those apart turns a check or a test-send into a port scanner. The detail goes to
the server log.
"""

from __future__ import annotations

import asyncio
import logging
import socket
import ssl

from nightowl.outbound.policy import OutboundDenied, OutboundPolicy

log = logging.getLogger("nightowl.outbound")

CONNECTION_FAILED = "connection failed"


async def open_connection(
    policy: OutboundPolicy,
    host: str,
    port: int,
    *,
    ssl_context: ssl.SSLContext | None = None,
    server_hostname: str | None = None,
    limit: int = 2**16,
) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
    """`asyncio.open_connection` to an allowed address of `host`, pinned: resolved once, checked, used.

    TLS names the original host (SNI, certificate checks), not the address connected to.
    """
    addresses = await policy.resolve(host, port)
    last: OSError | None = None
    for address in addresses:
        try:
            if ssl_context is None:
                return await asyncio.open_connection(address, port, limit=limit)
            return await asyncio.open_connection(
                address, port, ssl=ssl_context, server_hostname=server_hostname or host.strip("[]"), limit=limit
            )
        except ssl.SSLError:
            raise
        except OSError as exc:
            last = exc
    assert last is not None
    raise last


async def connected_socket(policy: OutboundPolicy, host: str, port: int, timeout: float) -> socket.socket:
    """A connected TCP socket to an allowed address of `host`, for libraries that accept one (SMTP)."""
    addresses = await policy.resolve(host, port)
    loop = asyncio.get_running_loop()
    last: OSError | None = None
    for address in addresses:
        family = socket.AF_INET6 if ":" in address else socket.AF_INET
        sock = socket.socket(family, socket.SOCK_STREAM)
        sock.setblocking(False)
        try:
            await asyncio.wait_for(loop.sock_connect(sock, (address.split("%", 1)[0], port)), timeout)
            return sock
        except OSError as exc:
            sock.close()
            last = exc
        except BaseException:
            sock.close()
            raise
    assert last is not None
    raise last


def root_cause(exc: BaseException) -> BaseException:
    """The innermost OS-level error behind a wrapped one (httpx and anyio wrap the refused connection)."""
    seen: set[int] = set()
    current: BaseException | None = exc
    found = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if isinstance(current, OutboundDenied):
            return current
        if isinstance(current, OSError | ssl.SSLError):
            found = current
        if isinstance(current, BaseExceptionGroup) and current.exceptions:
            current = current.exceptions[0]
        else:
            current = current.__cause__ or current.__context__
    return found


def public_error(exc: BaseException, *, where: str = "") -> str:
    """What a user is told about a failed outbound connection; the detail is logged, not shown.

    A refused policy is said in full (it names the setting); a certificate that is not trusted too
    (the connection was made, and the user must fix it); everything else before an answer is one
    sentence.
    """
    cause = root_cause(exc)
    if isinstance(cause, OutboundDenied):
        return str(cause)
    log.info("outbound connection failed", extra={"destination": where, "error": _detail(exc, cause)})
    if isinstance(cause, ssl.SSLCertVerificationError):
        return f"TLS certificate not trusted: {cause.verify_message}"
    if isinstance(cause, socket.gaierror) or "cannot resolve" in str(exc):
        return "cannot resolve the host name"
    return CONNECTION_FAILED


def _detail(exc: BaseException, cause: BaseException) -> str:
    text = str(cause).strip() or str(exc).strip()
    return f"{type(cause).__name__}: {text}" if text else type(cause).__name__
