"""The SSRF guard: a tenant-chosen URL may only reach public addresses.

Checked twice: when the URL is given (`SsrfUrlGuard`, a clear 422) and on every connection
(`GuardedNetworkBackend`): the name is resolved, every address is judged by
`domain.network_policy`, and the socket is opened to the address that was checked, so a
DNS answer that changes between the check and the connect (rebinding) cannot slip through.
TLS still verifies the certificate for the URL's host name (httpcore sends it as SNI).
"""

import asyncio
import ipaddress
import socket
from collections.abc import Iterable
from typing import Any
from urllib.parse import urlsplit

import httpcore
import httpx

from domain.errors import InvalidValue
from domain.network_policy import IpAddress, refused_address_reason

RESOLVE_TIMEOUT_S = 3.0


class RefusedAddress(Exception):
    """The host resolves to an address the platform may not call (or does not resolve).
    `address` and `reason` (set when an address was refused) let a caller word its own
    message."""

    def __init__(
        self,
        message: str,
        *,
        unresolved: bool = False,
        address: IpAddress | None = None,
        reason: str | None = None,
    ) -> None:
        super().__init__(message)
        self.unresolved = unresolved
        self.address = address
        self.reason = reason


async def resolve_allowed(host: str, port: int, *, allow_private: bool) -> list[IpAddress]:
    """Every address `host` resolves to, if all of them may be called; RefusedAddress else.
    One refused address refuses the host: a resolver may answer in any order."""
    try:
        literal: IpAddress | None = ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        literal = None
    if literal is not None:
        addresses = [literal]
    else:
        loop = asyncio.get_running_loop()
        try:
            infos = await asyncio.wait_for(
                loop.getaddrinfo(host, port, type=socket.SOCK_STREAM), RESOLVE_TIMEOUT_S
            )
        except (OSError, TimeoutError, ValueError) as exc:  # UnicodeError: not a host name
            raise RefusedAddress(f"{host} does not resolve", unresolved=True) from exc
        addresses = list(dict.fromkeys(ipaddress.ip_address(info[4][0]) for info in infos))
    if not allow_private:
        for address in addresses:
            reason = refused_address_reason(address)
            if reason is not None:
                raise RefusedAddress(f"{host} resolves to {reason}", address=address, reason=reason)
    if not addresses:
        raise RefusedAddress(f"{host} does not resolve", unresolved=True)
    return addresses


def http_host_and_port(url: str, field: str) -> tuple[str, int]:
    """The host and port of an http(s) URL (the scheme's port by default); InvalidValue
    naming `field` for anything else."""
    try:
        parts = urlsplit(url)
        host, port = parts.hostname, parts.port
    except ValueError:  # e.g. a bracketed host that is no IPv6 address, a bad port
        raise InvalidValue(field, "is not a valid URL") from None
    if parts.scheme not in ("http", "https") or not host:
        raise InvalidValue(field, "must be an http(s) URL with a host")
    return host, port or (443 if parts.scheme == "https" else 80)


class SsrfUrlGuard:
    """The submit-time check (application port UrlGuard). A name that does not resolve
    now is let through: it cannot reach anything now, and every connection is checked."""

    def __init__(self, *, allow_private: bool) -> None:
        self._allow_private = allow_private

    async def check(self, url: str, field: str) -> None:
        host, port = http_host_and_port(url, field)
        try:
            await resolve_allowed(host, port, allow_private=self._allow_private)
        except RefusedAddress as exc:
            if not exc.unresolved:
                raise InvalidValue(field, f"is not allowed: {exc}") from None


class GuardedNetworkBackend(httpcore.AsyncNetworkBackend):
    """httpcore's own backend, connecting only to addresses that were checked."""

    def __init__(self, *, allow_private: bool) -> None:
        self._inner = httpcore.AnyIOBackend()
        self._allow_private = allow_private

    async def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,  # noqa: ASYNC109 (httpcore's interface)
        local_address: str | None = None,
        socket_options: Iterable[Any] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        try:
            addresses = await resolve_allowed(host, port, allow_private=self._allow_private)
        except RefusedAddress as exc:
            raise httpcore.ConnectError(str(exc)) from exc
        return await self._inner.connect_tcp(
            str(addresses[0]),
            port,
            timeout=timeout,
            local_address=local_address,
            socket_options=socket_options,
        )

    async def connect_unix_socket(self, *args: Any, **kwargs: Any) -> httpcore.AsyncNetworkStream:
        raise httpcore.ConnectError("unix sockets are not reachable from here")

    async def sleep(self, seconds: float) -> None:
        await self._inner.sleep(seconds)


class GuardedTransport(httpx.AsyncHTTPTransport):
    """httpx's transport over the guarded backend. httpx has no parameter for the network
    backend, so its pool is rebuilt with one (httpx 0.28's pool arguments)."""

    def __init__(self, *, allow_private: bool, **options: Any) -> None:
        super().__init__(**options)
        pool = self._pool
        self._pool = httpcore.AsyncConnectionPool(
            ssl_context=pool._ssl_context,
            max_connections=pool._max_connections,
            max_keepalive_connections=pool._max_keepalive_connections,
            keepalive_expiry=pool._keepalive_expiry,
            http1=pool._http1,
            http2=pool._http2,
            network_backend=GuardedNetworkBackend(allow_private=allow_private),
        )


def guarded_client(*, allow_private: bool, timeout_s: float) -> httpx.AsyncClient:
    """A client for tenant-chosen URLs: guarded connections, no redirects, no proxies from
    the environment (a proxy would make the connection check meaningless)."""
    return httpx.AsyncClient(
        transport=GuardedTransport(allow_private=allow_private),
        timeout=httpx.Timeout(timeout_s),
        follow_redirects=False,
        trust_env=False,
    )
