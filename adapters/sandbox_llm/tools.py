"""Tool calls in the sandbox gateway, scripted by the user's message (offline test mode).

- A line `@tool NAME {json arguments}` in the last user message, when the request offers a
  tool NAME, makes the answer a call of that tool (one call per such line; no JSON: `{}`).
- When the last message is a tool result, the answer is "[sandbox] tool result: " and the
  results since the model's last call, joined by " | ", cut to 200 characters.
"""

import re

from application.ports.llm_tools import ToolCall
from application.ports.llm_types import ChatRequest

_DIRECTIVE = re.compile(r"^\s*@tool\s+([A-Za-z0-9_-]{1,64})\s*(\{.*\})?\s*$", re.MULTILINE)
_RESULT_CHARS = 200


def scripted_calls(request: ChatRequest) -> tuple[ToolCall, ...]:
    if not request.tools or not request.messages or request.messages[-1].role != "user":
        return ()
    offered = {tool.name for tool in request.tools}
    found = _DIRECTIVE.findall(request.messages[-1].content)
    return tuple(
        ToolCall(id=f"call_sandbox_{n}", name=name, arguments=args or "{}")
        for n, (name, args) in enumerate(found)
        if name in offered
    )


def tool_results_answer(request: ChatRequest) -> str | None:
    results: list[str] = []
    for message in reversed(request.messages):
        if message.role != "tool":
            break
        results.insert(0, " ".join(message.content.split()))
    if not results:
        return None
    text = " | ".join(results)
    if len(text) > _RESULT_CHARS:
        text = text[: _RESULT_CHARS - 3].rstrip() + "..."
    return "tool result: " + text
