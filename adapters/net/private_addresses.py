"""Which network addresses a tenant-supplied URL must never reach (SSRF protection).

Refused: loopback, private (RFC 1918, unique-local fc00::/7), link-local (169.254/16, with
the cloud metadata endpoints 169.254.169.254 and fd00:ec2::254), carrier-grade NAT,
multicast, unspecified, reserved and documentation ranges: anything that is not a global
unicast address. IPv4 embedded in IPv6 (mapped, 6to4, NAT64) is judged as the IPv4 inside.
"""

import asyncio
import ipaddress
import socket
from urllib.parse import urlsplit

IpAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
_NAT64 = ipaddress.ip_network("64:ff9b::/96")


class RefusedAddress(ValueError):
    """The URL is malformed, does not resolve, or resolves to a refused address."""


def _embedded_ipv4(ip: ipaddress.IPv6Address) -> ipaddress.IPv4Address | None:
    if ip.ipv4_mapped is not None:
        return ip.ipv4_mapped
    if ip.sixtofour is not None:
        return ip.sixtofour
    if ip in _NAT64:
        return ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
    return None


def is_refused(ip: IpAddress) -> bool:
    if isinstance(ip, ipaddress.IPv6Address):
        inner = _embedded_ipv4(ip)
        if inner is not None:
            return is_refused(inner)
    return not ip.is_global or ip.is_multicast


def host_and_port(url: str) -> tuple[str, int]:
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as exc:
        raise RefusedAddress("is not a valid URL") from exc
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise RefusedAddress("must be an http(s) URL with a host")
    return parts.hostname, port or (443 if parts.scheme == "https" else 80)


async def resolve(host: str, port: int) -> list[IpAddress]:
    try:
        return [ipaddress.ip_address(host)]
    except ValueError:
        pass
    try:
        infos = await asyncio.get_running_loop().getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except OSError as exc:
        raise RefusedAddress(f"host {host!r} does not resolve") from exc
    # An IPv6 scope (`fe80::1%eth0`) is dropped: the address alone decides.
    return [ipaddress.ip_address(str(info[4][0]).split("%")[0]) for info in infos]


async def check_public_url(url: str) -> None:
    """RefusedAddress unless every address the URL's host resolves to is public: a host
    with one private address among public ones is refused too."""
    host, port = host_and_port(url)
    addresses = await resolve(host, port)
    if not addresses:
        raise RefusedAddress(f"host {host!r} does not resolve")
    refused = next((ip for ip in addresses if is_refused(ip)), None)
    if refused is not None:
        raise RefusedAddress(
            f"resolves to {refused}, a loopback, private, link-local or otherwise internal "
            "address (refused unless the operator sets AGENTKEEL_MCP_ALLOW_PRIVATE_URLS=true)"
        )
