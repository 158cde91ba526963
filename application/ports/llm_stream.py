"""Streamed chat completions: the gateway's answer as it is produced.

A stream yields `ChatDelta`s (each a piece of the answer, in order) and ends with exactly
one `ChatResult`: the whole answer with the model, usage and cost, as `chat` returns it.
A failure before or during the stream raises a `GatewayError`, as `chat` does; the deltas
already yielded stay valid. Closing the iterator early stops the call at the gateway.
"""

from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Protocol

from application.ports.llm_types import ChatRequest, ChatResult


@dataclass(frozen=True, slots=True)
class ChatDelta:
    content: str


ChatStreamItem = ChatDelta | ChatResult


class ChatStreaming(Protocol):
    def stream(self, request: ChatRequest) -> AsyncIterator[ChatStreamItem]:
        """Same errors as `LlmGateway.chat`; mid-stream failures surface while iterating."""
        ...
