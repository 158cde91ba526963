"""Scriptable `LlmGateway` for unit tests: records requests, fails on demand, echoes."""

import asyncio
import json
from collections import deque
from collections.abc import AsyncIterator
from typing import Any

from adapters.fake_llm.chunks import pieces
from adapters.fake_llm.registry import GatewayRegistry
from application.ports.llm_stream import ChatDelta, ChatStreamItem
from application.ports.llm_tools import ToolCall
from application.ports.llm_types import (
    ChatRequest,
    ChatResult,
    KeyInfo,
    Usage,
    VirtualKey,
)


class FakeLlmGateway:
    """Answers "echo: <last user message>" (or what `reply_next` queued), cut to
    `max_tokens` words. A token is a whitespace-separated word, so tests can predict usage;
    each token costs `cost_per_token` USD, charged to the virtual key. `stream` sends the
    same answer a word at a time; `stream_gate`, when set, holds every stream after its
    first delta until the event is set (to look at the world mid-stream); `answer_gate`,
    when set, holds every chat and stream before it answers (a slow first token)."""

    def __init__(self, *, cost_per_token: float = 0.000001) -> None:
        self.registry = GatewayRegistry(key_prefix="sk-fake-")
        self.calls: list[ChatRequest] = []
        self.cost_per_token = cost_per_token
        self._failures: deque[tuple[str | None, Exception]] = deque()
        self._replies: deque[str] = deque()
        self._tool_calls: deque[tuple[ToolCall, ...]] = deque()
        self._mid_stream: deque[tuple[int, Exception]] = deque()
        self.stream_gate: asyncio.Event | None = None
        self.answer_gate: asyncio.Event | None = None

    def fail_next(self, exc: Exception, method: str | None = None) -> None:
        """Raise `exc` from the next call of `method` (any method if None), once."""
        self._failures.append((method, exc))

    def fail_mid_stream_next(self, exc: Exception, after: int = 1) -> None:
        """The next stream yields `after` deltas, then raises `exc`."""
        self._mid_stream.append((after, exc))

    def reply_next(self, content: str) -> None:
        self._replies.append(content)

    def call_tools_next(self, *calls: tuple[str, dict[str, Any] | str]) -> None:
        """The next chat that offers tools answers with these calls (name, arguments: an
        object, or raw text to test malformed arguments) instead of a reply."""
        made = tuple(
            ToolCall(
                id=f"call_{len(self._tool_calls)}_{n}",
                name=name,
                arguments=args if isinstance(args, str) else json.dumps(args),
            )
            for n, (name, args) in enumerate(calls)
        )
        self._tool_calls.append(made)

    def _maybe_fail(self, method: str) -> None:
        for index, (wanted, exc) in enumerate(self._failures):
            if wanted is None or wanted == method:
                del self._failures[index]
                raise exc

    async def chat(self, request: ChatRequest) -> ChatResult:
        self.calls.append(request)  # before failing: tests assert on attempts too
        if self.answer_gate is not None:
            await self.answer_gate.wait()
        self._maybe_fail("chat")
        self.registry.authorize(request.api_key, request.model)
        if request.tools and self._tool_calls:
            usage = Usage(1, 1, 2)
            calls = self._tool_calls.popleft()
            return ChatResult(content="", model=request.model, usage=usage, tool_calls=calls)
        last_user = next((m.content for m in reversed(request.messages) if m.role == "user"), "")
        words = (self._replies.popleft() if self._replies else f"echo: {last_user}").split()
        if request.max_tokens is not None:
            words = words[: request.max_tokens]
        prompt_tokens = sum(len(m.content.split()) for m in request.messages)
        usage = Usage(prompt_tokens, len(words), prompt_tokens + len(words))
        cost = usage.total_tokens * self.cost_per_token
        self.registry.charge(request.api_key, cost)
        return ChatResult(content=" ".join(words), model=request.model, usage=usage, cost=cost)

    async def stream(self, request: ChatRequest) -> AsyncIterator[ChatStreamItem]:
        result = await self.chat(request)
        after, failure = self._mid_stream.popleft() if self._mid_stream else (-1, None)
        for index, piece in enumerate(pieces(result.content)):
            if index == after and failure is not None:
                raise failure
            yield ChatDelta(piece)
            if index == 0 and self.stream_gate is not None:
                await self.stream_gate.wait()
            await asyncio.sleep(0)
        if failure is not None:
            raise failure
        yield result

    async def register_deployment(
        self,
        model_name: str,
        litellm_model: str,
        provider_api_key: str,
        api_base: str | None = None,
    ) -> str:
        self._maybe_fail("register_deployment")
        return self.registry.add_deployment(model_name, litellm_model, provider_api_key, api_base)

    async def remove_deployment(self, model_id: str) -> None:
        self._maybe_fail("remove_deployment")
        self.registry.remove_deployment(model_id)

    async def create_virtual_key(
        self,
        models: list[str],
        alias: str,
        max_budget: float | None,
        metadata: dict[str, str],
    ) -> VirtualKey:
        self._maybe_fail("create_virtual_key")
        return self.registry.create_key(models, alias, max_budget, metadata)

    async def key_info(self, key: str) -> KeyInfo:
        self._maybe_fail("key_info")
        return self.registry.key_info(key)

    async def revoke_key(self, key: str) -> None:
        self._maybe_fail("revoke_key")
        self.registry.revoke(key)
