"""The operator's MCP policy (allowlist; URLs under the shared SSRF rule, whose address
cases are in test_network_policy.py), and the sandbox gateway's scripted tool calls."""

import pytest

from adapters.mcp.policy import OperatorMcpPolicy
from adapters.sandbox_llm.gateway import SandboxLlmGateway
from application.ports.llm_tools import ToolCall, ToolSpec
from application.ports.llm_types import ChatMessage, ChatRequest
from domain.errors import InvalidValue


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("http://127.0.0.1/", "resolves to 127.0.0.1, a loopback address"),
        ("http://[::1]:8080/x", "resolves to ::1, a loopback address"),
        ("http://localhost:9/", "resolves to "),
        ("http://[::ffff:192.168.0.1]/", "resolves to ::ffff:"),  # the spelling varies by Python
        ("ftp://8.8.8.8/", "must be an http(s) URL with a host"),
        ("http:///nohost", "must be an http(s) URL with a host"),
        ("http://[not-an-ip/", "is not a valid URL"),
        ("http://no-such-host.invalid/", "host 'no-such-host.invalid' does not resolve"),
    ],
)
async def test_urls_that_reach_inside_or_nowhere_are_refused(url: str, message: str) -> None:
    with pytest.raises(InvalidValue) as raised:
        await OperatorMcpPolicy([]).check_url(url)
    assert raised.value.field == "url"
    assert raised.value.message.startswith(message)
    if message.startswith("resolves to"):
        assert "AGENTKEEL_MCP_ALLOW_PRIVATE_URLS=true" in raised.value.message


async def test_a_public_literal_url_passes() -> None:
    await OperatorMcpPolicy([]).check_url("https://8.8.8.8/mcp")


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
