"""Tool calling through the LLM gateway, in the shape of OpenAI's chat API (which LiteLLM
speaks): the tools offered with a request, and the calls a model asks for in its answer."""

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True, slots=True)
class ToolSpec:
    """A function the model may call: `parameters` is its arguments' JSON Schema."""

    name: str
    description: str = ""
    parameters: dict[str, Any] = field(default_factory=lambda: {"type": "object"})


@dataclass(frozen=True, slots=True)
class ToolCall:
    """One call the model asked for. `arguments` is the JSON text the model wrote (it may
    not be valid JSON: the caller checks); `id` pairs the call with its result message."""

    id: str
    name: str
    arguments: str = "{}"
