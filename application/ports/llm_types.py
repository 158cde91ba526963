"""Value types of the LLM gateway port. Keys are kept out of `repr` so logs cannot leak them."""

from dataclasses import dataclass, field
from typing import Literal

from application.ports.llm_tools import ToolCall, ToolSpec
from domain.errors import InvalidValue

Role = Literal["system", "user", "assistant", "tool"]
KeyStatus = Literal["active", "invalid", "revoked"]


@dataclass(frozen=True, slots=True)
class ChatMessage:
    """`tool_calls`: what an assistant message asked for; `tool_call_id`: the call a
    `tool` message answers."""

    role: Role
    content: str
    tool_calls: tuple[ToolCall, ...] = ()
    tool_call_id: str | None = None


@dataclass(frozen=True, slots=True)
class ChatRequest:
    """One chat completion. `api_key` is the virtual key to bill; None bills the platform
    (master) key."""

    model: str
    messages: tuple[ChatMessage, ...]
    temperature: float = 0.7
    max_tokens: int | None = None
    api_key: str | None = field(default=None, repr=False)
    tools: tuple[ToolSpec, ...] = ()  # offered to the model; none: a plain completion

    def __post_init__(self) -> None:
        if not self.model:
            raise InvalidValue("model", "must not be empty")
        if not self.messages:
            raise InvalidValue("messages", "must not be empty")
        if not 0.0 <= self.temperature <= 2.0:
            raise InvalidValue("temperature", "must be between 0 and 2")
        if self.max_tokens is not None and self.max_tokens < 1:
            raise InvalidValue("max_tokens", "must be at least 1")
        if self.api_key is not None and not self.api_key:
            raise InvalidValue("api_key", "must be None (platform key) or a virtual key")


@dataclass(frozen=True, slots=True)
class Usage:
    prompt_tokens: int
    completion_tokens: int
    total_tokens: int


@dataclass(frozen=True, slots=True)
class ChatResult:
    """The answer; `cost` is in USD as the gateway computed it, None when it did not say."""

    content: str
    model: str
    usage: Usage
    cost: float | None = None
    tool_calls: tuple[ToolCall, ...] = ()  # the model asks for these before it answers


@dataclass(frozen=True, slots=True)
class VirtualKey:
    """A gateway-minted key (`sk-...`), shown once; `token_id` is the gateway's hash of it,
    safe to store and log."""

    key: str = field(repr=False)
    token_id: str


@dataclass(frozen=True, slots=True)
class KeyInfo:
    """`invalid` covers keys the gateway does not know (never minted, or deleted there)."""

    status: KeyStatus
    spend: float
    max_budget: float | None
