"""Which network addresses the platform may call on a tenant's behalf (SSRF rules).

Pure: the caller resolves names; this only judges addresses. Shared by every outbound URL a
tenant can choose (execution callbacks; MCP server URLs may use the same rule).
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


def refused_address_reason(address: IpAddress) -> str | None:
    """Why `address` may not be called (loopback, private, link-local, metadata, ...);
    None when it is a public unicast address."""
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return refused_address_reason(address.ipv4_mapped)
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
    if not address.is_global:
        return "not a public address"
    return None


_SHARED_ADDRESS_SPACE = ipaddress.ip_network("100.64.0.0/10")  # carrier-grade NAT
