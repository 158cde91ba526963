"""Tools through `LiteLlmGateway` in the OpenAI format, against respx routes: what goes
out (tools, an assistant's tool calls, tool results) and what comes back."""

import json

import httpx
import pytest
import respx

from adapters.litellm.gateway import LiteLlmGateway
from application.gateway_errors import GatewayError
from application.ports.llm_tools import ToolCall, ToolSpec
from application.ports.llm_types import ChatMessage, ChatRequest

BASE_URL = "http://litellm.test"
TOOL = ToolSpec("add", "Add two integers", {"type": "object", "required": ["a", "b"]})


def _answer(message: dict[str, object]) -> httpx.Response:
    usage = {"prompt_tokens": 3, "completion_tokens": 2, "total_tokens": 5}
    return httpx.Response(
        200, json={"model": "m", "choices": [{"message": message}], "usage": usage}
    )


async def test_tools_and_tool_messages_go_out_and_calls_come_back() -> None:
    call = {"id": "c1", "type": "function", "function": {"name": "add", "arguments": '{"a":1}'}}
    with respx.mock(base_url=BASE_URL) as router:
        route = router.post("/chat/completions").mock(
            return_value=_answer({"role": "assistant", "content": None, "tool_calls": [call]})
        )
        gateway = LiteLlmGateway(BASE_URL, "sk-master", transport=httpx.AsyncHTTPTransport())
        messages = (
            ChatMessage("user", "1+2?"),
            ChatMessage("assistant", "", (ToolCall("c0", "add", '{"a": 1, "b": 2}'),)),
            ChatMessage("tool", "3", tool_call_id="c0"),
        )
        result = await gateway.chat(ChatRequest("m", messages, tools=(TOOL,)))
        await gateway.aclose()
    sent = json.loads(route.calls[0].request.content)
    assert sent["tools"] == [
        {
            "type": "function",
            "function": {
                "name": "add",
                "description": "Add two integers",
                "parameters": {"type": "object", "required": ["a", "b"]},
            },
        }
    ]
    assert sent["messages"][1] == {
        "role": "assistant",
        "content": None,
        "tool_calls": [
            {
                "id": "c0",
                "type": "function",
                "function": {"name": "add", "arguments": '{"a": 1, "b": 2}'},
            }
        ],
    }
    assert sent["messages"][2] == {"role": "tool", "content": "3", "tool_call_id": "c0"}
    assert result.tool_calls == (ToolCall("c1", "add", '{"a":1}'),)
    assert result.content == ""


async def test_no_tools_no_tools_key_and_malformed_calls_are_gateway_errors() -> None:
    with respx.mock(base_url=BASE_URL) as router:
        route = router.post("/chat/completions").mock(
            return_value=_answer({"role": "assistant", "content": "x", "tool_calls": [{"id": 1}]})
        )
        gateway = LiteLlmGateway(BASE_URL, "sk-master", transport=httpx.AsyncHTTPTransport())
        with pytest.raises(GatewayError, match="malformed"):
            await gateway.chat(ChatRequest("m", (ChatMessage("user", "hi"),)))
        await gateway.aclose()
    sent = json.loads(route.calls[0].request.content)
    assert "tools" not in sent and sent["messages"] == [{"role": "user", "content": "hi"}]
