"""Which network addresses the platform may call on a tenant's behalf (the SSRF rule).

Pure: the caller resolves names; this only judges addresses. The one rule for every
outbound URL a tenant can choose: execution callbacks, ticket systems, MCP server URLs.
"""

import ipaddress

IpAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

# Cloud metadata endpoints that are not covered by the private/link-local ranges.
_METADATA = frozenset(
    {
        ipaddress.ip_address("100.100.100.200"),  # Alibaba Cloud
        ipaddress.ip_address("fd00:ec2::254"),  # AWS IMDS over IPv6 (also ULA, listed to be sure)
    }
)
_SHARED_ADDRESS_SPACE = ipaddress.ip_network("100.64.0.0/10")  # carrier-grade NAT
_NAT64 = ipaddress.ip_network("64:ff9b::/96")  # well-known NAT64 prefix (RFC 6052)


def _embedded_ipv4(address: ipaddress.IPv6Address) -> ipaddress.IPv4Address | None:
    """The IPv4 address an IPv6 one carries to (mapped, 6to4 2002::/16, NAT64): a gateway
    would deliver to it, so it is what must be judged."""
    if address.ipv4_mapped is not None:
        return address.ipv4_mapped
    if address.sixtofour is not None:
        return address.sixtofour
    if address in _NAT64:
        return ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
    return None


def refused_address_reason(address: IpAddress) -> str | None:
    """Why `address` may not be called (loopback, private, link-local, metadata, ...);
    None when it is a global unicast address."""
    if isinstance(address, ipaddress.IPv6Address):
        inner = _embedded_ipv4(address)
        if inner is not None:
            return refused_address_reason(inner)
    if address in _METADATA:
        return "a cloud metadata address"
    if address.is_loopback:
        return "a loopback address"
    if address.is_link_local:  # 169.254.0.0/16 holds 169.254.169.254, the usual metadata
        return "a link-local address"
    if address.is_private or (
        isinstance(address, ipaddress.IPv4Address) and address in _SHARED_ADDRESS_SPACE
    ):
        return "a private address"
    if address.is_multicast or address.is_unspecified or address.is_reserved:
        return "not a unicast address"
    if not address.is_global:  # documentation, benchmarking, ... ranges
        return "not a public address"
    return None
