"""Tools and tool calls in the OpenAI chat format that LiteLLM takes and gives back."""

from typing import Any

from application.ports.llm_tools import ToolCall, ToolSpec
from application.ports.llm_types import ChatMessage


def message_json(message: ChatMessage) -> dict[str, Any]:
    body: dict[str, Any] = {"role": message.role, "content": message.content}
    if message.tool_calls:
        body["content"] = message.content or None
        body["tool_calls"] = [
            {
                "id": call.id,
                "type": "function",
                "function": {"name": call.name, "arguments": call.arguments},
            }
            for call in message.tool_calls
        ]
    if message.tool_call_id is not None:
        body["tool_call_id"] = message.tool_call_id
    return body


def tools_json(tools: tuple[ToolSpec, ...]) -> list[dict[str, Any]]:
    return [
        {
            "type": "function",
            "function": {
                "name": tool.name,
                "description": tool.description,
                "parameters": tool.parameters or {"type": "object"},
            },
        }
        for tool in tools
    ]


def tool_calls_of(message: dict[str, Any]) -> tuple[ToolCall, ...]:
    """The `tool_calls` of an assistant message; KeyError/TypeError if malformed."""
    calls = message.get("tool_calls") or ()
    return tuple(
        ToolCall(
            id=str(call["id"]),
            name=str(call["function"]["name"]),
            arguments=str(call["function"].get("arguments") or "{}"),
        )
        for call in calls
    )
