"""One suite, every `LlmGateway` adapter: the fake, the offline sandbox and LiteLLM.

The LiteLLM adapter runs against respx routes that emulate a LiteLLM proxy statefully, with
the bodies LiteLLM really returns (tests/support/litellm_emulator.py). A real LiteLLM proxy
process is not used for key management: its key API needs a Prisma engine that cannot be
downloaded here, so key management is covered by respx only.
"""

from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
import respx

from adapters.fake_llm.gateway import FakeLlmGateway
from adapters.litellm.gateway import LiteLlmGateway
from adapters.litellm.tool_format import message_json
from adapters.sandbox_llm.gateway import SandboxLlmGateway
from application.gateway_errors import BudgetExceeded, GatewayError, UnknownVirtualKey
from application.ports.llm_gateway import LlmGateway
from application.ports.llm_types import ChatMessage, ChatRequest
from tests.support.litellm_emulator import LiteLlmProxyEmulator

BASE_URL = "http://litellm.test"
MASTER_KEY = "sk-master-contract-7f3a9c"
PLATFORM_MODEL = "gpt-4o-mini"


@dataclass
class Harness:
    gateway: LlmGateway
    sent: Callable[[], list[dict[str, Any]]]  # chat requests as the gateway received them


def _fake_sent(fake: FakeLlmGateway) -> list[dict[str, Any]]:
    fields = ("model", "temperature", "max_tokens")
    return [
        {name: getattr(call, name) for name in fields}
        | {"messages": [message_json(message) for message in call.messages]}
        for call in fake.calls
    ]


@asynccontextmanager
async def _harness(kind: str) -> AsyncIterator[Harness]:
    if kind == "fake":
        fake = FakeLlmGateway()
        yield Harness(fake, lambda: _fake_sent(fake))
    elif kind == "sandbox":
        yield Harness(SandboxLlmGateway(), lambda: [])
    else:
        emulator = LiteLlmProxyEmulator(MASTER_KEY)
        with respx.mock(base_url=BASE_URL, assert_all_called=False) as router:
            emulator.install(router)
            gateway = LiteLlmGateway(
                BASE_URL, MASTER_KEY, timeout_s=5, transport=httpx.AsyncHTTPTransport()
            )
            yield Harness(gateway, lambda: emulator.chat_bodies)
            await gateway.aclose()


@pytest.fixture(params=["fake", "sandbox", "litellm"])
async def llm(request: pytest.FixtureRequest) -> AsyncIterator[Harness]:
    async with _harness(request.param) as harness:
        yield harness


@pytest.fixture(params=["fake", "litellm"])
async def recording_llm(request: pytest.FixtureRequest) -> AsyncIterator[Harness]:
    """The adapters whose received requests can be inspected (the sandbox keeps none)."""
    async with _harness(request.param) as harness:
        yield harness


def _ask(text: str, model: str = PLATFORM_MODEL, **kwargs: Any) -> ChatRequest:
    return ChatRequest(model=model, messages=(ChatMessage("user", text),), **kwargs)


async def _tenant_key(gateway: LlmGateway, max_budget: float | None = 5.0) -> tuple[str, str]:
    model_name = "tenant-3f2a-openai"
    await gateway.register_deployment(model_name, "openai/gpt-4o-mini", "sk-provider-abc123")
    minted = await gateway.create_virtual_key(
        [model_name], "tenant-3f2a/openai", max_budget, {"tenant_id": "3f2a"}
    )
    return model_name, minted.key


async def test_chat_answers_with_content_usage_and_model(llm: Harness) -> None:
    result = await llm.gateway.chat(_ask("Summarise the ticket about the broken login page"))
    assert result.content.strip()
    assert result.model
    usage = result.usage
    assert usage.prompt_tokens > 0 and usage.completion_tokens > 0
    assert usage.total_tokens == usage.prompt_tokens + usage.completion_tokens
    assert result.cost is None or result.cost >= 0


async def test_chat_answer_fits_max_tokens(llm: Harness) -> None:
    long_text = " ".join(f"word{i}" for i in range(200))
    result = await llm.gateway.chat(_ask(long_text, max_tokens=3))
    assert 0 < result.usage.completion_tokens <= 3


async def test_system_prompt_temperature_and_max_tokens_reach_the_gateway(
    recording_llm: Harness,
) -> None:
    messages = (ChatMessage("system", "You are terse."), ChatMessage("user", "Hello"))
    request = ChatRequest(PLATFORM_MODEL, messages, temperature=0.2, max_tokens=64)
    await recording_llm.gateway.chat(request)
    assert recording_llm.sent() == [
        {
            "model": PLATFORM_MODEL,
            "messages": [
                {"role": "system", "content": "You are terse."},
                {"role": "user", "content": "Hello"},
            ],
            "temperature": 0.2,
            "max_tokens": 64,
        }
    ]


async def test_virtual_key_lifecycle(llm: Harness) -> None:
    model_name, key = await _tenant_key(llm.gateway, max_budget=5.0)
    assert key.startswith("sk-")
    info = await llm.gateway.key_info(key)
    assert (info.status, info.spend, info.max_budget) == ("active", 0.0, 5.0)

    await llm.gateway.chat(_ask("Hello", model=model_name, api_key=key))
    assert (await llm.gateway.key_info(key)).spend > 0

    await llm.gateway.revoke_key(key)
    assert (await llm.gateway.key_info(key)).status in ("revoked", "invalid")
    with pytest.raises(UnknownVirtualKey):
        await llm.gateway.chat(_ask("Hello again", model=model_name, api_key=key))
    await llm.gateway.revoke_key(key)  # idempotent


async def test_no_two_live_keys_share_an_alias(llm: Harness) -> None:
    """LiteLLM's _enforce_unique_key_alias; a deleted key's alias is free again."""
    model_name, first = await _tenant_key(llm.gateway)
    with pytest.raises(GatewayError) as refused:
        await llm.gateway.create_virtual_key([model_name], "tenant-3f2a/openai", 5.0, {})
    assert not isinstance(refused.value, UnknownVirtualKey | BudgetExceeded)
    await llm.gateway.revoke_key(first)
    again = await llm.gateway.create_virtual_key([model_name], "tenant-3f2a/openai", 5.0, {})
    assert again.key.startswith("sk-") and again.key != first
    assert (await llm.gateway.key_info(again.key)).status == "active"


async def test_unknown_key_is_invalid(llm: Harness) -> None:
    info = await llm.gateway.key_info("sk-never-minted-0000")
    assert (info.status, info.spend, info.max_budget) == ("invalid", 0.0, None)


async def test_spent_budget_blocks_the_key(llm: Harness) -> None:
    model_name, key = await _tenant_key(llm.gateway, max_budget=1e-9)
    await llm.gateway.chat(_ask("First call spends the tiny budget", model=model_name, api_key=key))
    with pytest.raises(BudgetExceeded):
        await llm.gateway.chat(_ask("Second call is refused", model=model_name, api_key=key))
    info = await llm.gateway.key_info(key)
    assert info.status == "active" and info.max_budget is not None
    assert info.spend >= info.max_budget


async def test_key_reaches_only_its_models(llm: Harness) -> None:
    _, key = await _tenant_key(llm.gateway)
    with pytest.raises(GatewayError) as refused:
        await llm.gateway.chat(_ask("Hello", model=PLATFORM_MODEL, api_key=key))
    assert not isinstance(refused.value, UnknownVirtualKey | BudgetExceeded)


async def test_deployment_register_and_remove(llm: Harness) -> None:
    first = await llm.gateway.register_deployment(
        "tenant-a-openai", "openai/gpt-4o-mini", "sk-provider-a", "https://api.openai.com/v1"
    )
    second = await llm.gateway.register_deployment(
        "tenant-b-openai", "openai/gpt-4o-mini", "sk-provider-b"
    )
    assert first and second and first != second
    answer = await llm.gateway.chat(_ask("Hello", model="tenant-a-openai"))
    assert answer.content
    await llm.gateway.remove_deployment(first)
    await llm.gateway.remove_deployment(first)  # idempotent
    await llm.gateway.remove_deployment(second)
