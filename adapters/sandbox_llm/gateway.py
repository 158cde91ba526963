"""Offline `LlmGateway`: the documented test mode when `AGENTKEEL_LITELLM_URL` is unset.

Nothing leaves the process. What integrators can rely on:

- The answer is "[sandbox] " followed by the last user message, whitespace collapsed and cut
  to 200 characters; the same input always gives the same answer. Temperature is accepted
  and ignored. With `max_tokens`, the answer is cut (by words) to fit.
- The reported model is prefixed `sandbox/`: the registered deployment's model for a tenant
  deployment name (`sandbox/openai/gpt-4o-mini`), else the requested name.
- Tokens are estimated, not counted by a real tokenizer: a text is max(words, ceil(chars/4))
  tokens (close to OpenAI's tokenizers on English), each prompt message adds 4 for the chat
  framing.
- Each token costs a nominal $0.000001, charged to the virtual key, so budgets can be
  exercised offline.
- Tools: see adapters/sandbox_llm/tools.py (`@tool NAME {json}` lines ask for a call; the
  answer after a tool result quotes it).
- Streamed (`stream`), the same answer comes one word at a time (each with the whitespace
  around it), then the usage and cost.
- Virtual keys look like `sk-sandbox-...`; deployments, keys, spend, budgets and revocation
  live in memory (lost on restart) and behave like LiteLLM's.
"""

import math
from collections.abc import AsyncIterator

from adapters.fake_llm.chunks import stream_of
from adapters.fake_llm.registry import GatewayRegistry
from adapters.sandbox_llm.tools import scripted_calls, tool_results_answer
from application.ports.llm_stream import ChatStreamItem
from application.ports.llm_types import ChatRequest, ChatResult, KeyInfo, Usage, VirtualKey

PREFIX = "[sandbox] "
MODEL_PREFIX = "sandbox/"
COST_PER_TOKEN = 0.000001
_SUMMARY_CHARS = 200
_TOKENS_PER_MESSAGE = 4


def estimate_tokens(text: str) -> int:
    return max(len(text.split()), math.ceil(len(text) / 4))


def _answer(request: ChatRequest) -> str:
    last_user = next((m.content for m in reversed(request.messages) if m.role == "user"), "")
    summary = " ".join(last_user.split())
    if len(summary) > _SUMMARY_CHARS:
        summary = summary[: _SUMMARY_CHARS - 3].rstrip() + "..."
    answer = PREFIX + (tool_results_answer(request) or summary)
    limit = request.max_tokens
    while limit is not None and estimate_tokens(answer) > limit:
        # Drop whole words while there are some; a lone word is cut to 4 chars per token.
        answer = answer.rsplit(maxsplit=1)[0] if " " in answer else answer[: limit * 4]
    return answer


class SandboxLlmGateway:
    def __init__(self) -> None:
        self._registry = GatewayRegistry(key_prefix="sk-sandbox-")

    async def chat(self, request: ChatRequest) -> ChatResult:
        self._registry.authorize(request.api_key, request.model)
        calls = scripted_calls(request)
        content = "" if calls else _answer(request)
        prompt_tokens = sum(
            estimate_tokens(m.content) + _TOKENS_PER_MESSAGE for m in request.messages
        )
        completion_tokens = estimate_tokens(content)
        usage = Usage(prompt_tokens, completion_tokens, prompt_tokens + completion_tokens)
        cost = usage.total_tokens * COST_PER_TOKEN
        self._registry.charge(request.api_key, cost)
        served = self._registry.served_model(request.model)
        model = served if served.startswith(MODEL_PREFIX) else MODEL_PREFIX + served
        return ChatResult(content, model, usage, cost, tool_calls=calls)

    async def stream(self, request: ChatRequest) -> AsyncIterator[ChatStreamItem]:
        async for item in stream_of(await self.chat(request)):
            yield item

    async def register_deployment(
        self,
        model_name: str,
        litellm_model: str,
        provider_api_key: str,
        api_base: str | None = None,
    ) -> str:
        return self._registry.add_deployment(model_name, litellm_model, provider_api_key, api_base)

    async def remove_deployment(self, model_id: str) -> None:
        self._registry.remove_deployment(model_id)

    async def create_virtual_key(
        self,
        models: list[str],
        alias: str,
        max_budget: float | None,
        metadata: dict[str, str],
    ) -> VirtualKey:
        return self._registry.create_key(models, alias, max_budget, metadata)

    async def key_info(self, key: str) -> KeyInfo:
        return self._registry.key_info(key)

    async def revoke_key(self, key: str) -> None:
        self._registry.revoke(key)
