"""The SSRF rule (adapters/net/private_addresses.py), the operator's MCP policy, and the
sandbox gateway's scripted tool calls."""

import ipaddress

import pytest

from adapters.mcp.policy import OperatorMcpPolicy
from adapters.net.private_addresses import RefusedAddress, check_public_url, is_refused
from adapters.sandbox_llm.gateway import SandboxLlmGateway
from application.ports.llm_tools import ToolCall, ToolSpec
from application.ports.llm_types import ChatMessage, ChatRequest
from domain.errors import InvalidValue

REFUSED = [
    "127.0.0.1",
    "127.8.9.10",
    "10.0.0.1",
    "172.16.5.4",
    "192.168.1.1",
    "169.254.169.254",
    "100.64.0.1",
    "0.0.0.0",
    "224.0.0.1",
    "::1",
    "fe80::1",
    "fd00:ec2::254",
    "fc00::1",
    "::ffff:10.0.0.1",
    "2002:0a00:0001::",
    "64:ff9b::a9fe:a9fe",
    "::",
]
PUBLIC = ["93.184.215.14", "8.8.8.8", "2606:4700:4700::1111", "::ffff:8.8.8.8"]


@pytest.mark.parametrize("address", REFUSED)
def test_internal_addresses_are_refused(address: str) -> None:
    assert is_refused(ipaddress.ip_address(address))


@pytest.mark.parametrize("address", PUBLIC)
def test_public_addresses_pass(address: str) -> None:
    assert not is_refused(ipaddress.ip_address(address))


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1/",
        "http://[::1]:8080/x",
        "http://localhost:9/",
        "ftp://8.8.8.8/",
        "http:///nohost",
        "http://[not-an-ip/",
        "http://no-such-host.invalid/",
    ],
)
async def test_urls_that_reach_inside_or_nowhere_are_refused(url: str) -> None:
    with pytest.raises(RefusedAddress):
        await check_public_url(url)


async def test_policy_allowlist_is_exact_and_private_urls_are_opt_in() -> None:
    policy = OperatorMcpPolicy(["/usr/bin/python3", "relative/ignored"])
    policy.check_command("/usr/bin/python3")
    for refused in ("/usr/bin/python3 ", "/usr/bin/../bin/python3", "relative/ignored", "/bin/sh"):
        with pytest.raises(InvalidValue) as raised:
            policy.check_command(refused)
        assert raised.value.field == "command"
    with pytest.raises(InvalidValue):
        await policy.check_url("http://10.0.0.8/mcp")
    await OperatorMcpPolicy([], allow_private_urls=True).check_url("http://10.0.0.8/mcp")
    with pytest.raises(InvalidValue):  # still a URL with a host
        await OperatorMcpPolicy([], allow_private_urls=True).check_url("file:///etc/passwd")


async def test_the_sandbox_can_be_scripted_to_call_tools() -> None:
    sandbox = SandboxLlmGateway()
    tools = (ToolSpec("add", "Add", {"type": "object"}),)
    ask = ChatMessage("user", 'Please add\n@tool add {"a": 1, "b": 2}\n@tool missing {}')
    first = await sandbox.chat(ChatRequest("m", (ask,), tools=tools))
    assert first.tool_calls == (ToolCall("call_sandbox_0", "add", '{"a": 1, "b": 2}'),)
    assert first.content == ""
    follow = (
        ask,
        ChatMessage("assistant", "", first.tool_calls),
        ChatMessage("tool", "3", tool_call_id="call_sandbox_0"),
    )
    second = await sandbox.chat(ChatRequest("m", follow, tools=tools))
    assert second.content == "[sandbox] tool result: 3" and second.tool_calls == ()
    plain = await sandbox.chat(ChatRequest("m", (ask,)))  # no tools offered: no calls
    assert plain.tool_calls == () and plain.content.startswith("[sandbox] Please add")
