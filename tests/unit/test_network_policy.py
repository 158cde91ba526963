"""The one SSRF rule (domain/network_policy.py), the address cases of both of its former
implementations in one table. Where Python's `ipaddress` names the range the same way in
every supported version the reason is asserted too; elsewhere (0.0.0.0, 240/4,
documentation ranges: their `is_private` moved between Python versions) only the refusal."""

import ipaddress

import pytest

from domain.network_policy import refused_address_reason

ANY = "any reason"
LOOPBACK, PRIVATE, LINK_LOCAL = "a loopback address", "a private address", "a link-local address"
METADATA, NOT_UNICAST = "a cloud metadata address", "not a unicast address"

REFUSED = [
    ("127.0.0.1", LOOPBACK),
    ("127.8.9.10", LOOPBACK),
    ("10.0.0.1", PRIVATE),
    ("10.1.2.3", PRIVATE),
    ("172.16.5.4", PRIVATE),
    ("192.168.1.1", PRIVATE),
    ("169.254.169.254", LINK_LOCAL),  # the usual cloud metadata endpoint
    ("100.64.0.1", PRIVATE),  # carrier-grade NAT
    ("100.100.100.200", METADATA),  # Alibaba Cloud
    ("0.0.0.0", ANY),
    ("224.0.0.1", NOT_UNICAST),
    ("240.0.0.1", ANY),
    ("192.0.2.1", ANY),  # documentation
    ("198.18.0.1", ANY),  # benchmarking
    ("::1", LOOPBACK),
    ("::", ANY),
    ("fe80::1", LINK_LOCAL),
    ("fe80::1%eth0", LINK_LOCAL),  # a scoped address as getaddrinfo may answer it
    ("fd00:ec2::254", METADATA),  # AWS IMDS over IPv6
    ("fc00::1", PRIVATE),
    ("ff02::1", NOT_UNICAST),
    ("ff0e::1", NOT_UNICAST),  # global-scope multicast
    ("2001:db8::1", ANY),  # documentation
    # IPv4 inside IPv6 is judged as the IPv4: mapped, 6to4 (2002::/16), NAT64 (64:ff9b::/96).
    ("::ffff:10.0.0.1", PRIVATE),
    ("::ffff:192.168.0.1", PRIVATE),
    ("::ffff:127.0.0.1", LOOPBACK),
    ("2002:0a00:0001::", PRIVATE),
    ("2002:a9fe:a9fe::", LINK_LOCAL),
    ("64:ff9b::a9fe:a9fe", LINK_LOCAL),
    ("64:ff9b::7f00:1", LOOPBACK),
]
PUBLIC = [
    "93.184.215.14",
    "8.8.8.8",
    "2606:4700:4700::1111",
    "::ffff:8.8.8.8",
    "2002:808:808::",  # 6to4 of 8.8.8.8
    "64:ff9b::808:808",  # NAT64 of 8.8.8.8
]


@pytest.mark.parametrize(("address", "reason"), REFUSED)
def test_internal_addresses_are_refused_with_a_reason(address: str, reason: str) -> None:
    given = refused_address_reason(ipaddress.ip_address(address))
    assert given is not None
    if reason is not ANY:
        assert given == reason


@pytest.mark.parametrize("address", PUBLIC)
def test_global_unicast_addresses_pass(address: str) -> None:
    assert refused_address_reason(ipaddress.ip_address(address)) is None
