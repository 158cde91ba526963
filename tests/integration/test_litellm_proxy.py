"""LiteLlmGateway against a real LiteLLM proxy process, offline.

The proxy serves `mock_response` models with LITELLM_LOCAL_MODEL_COST_MAP=True, so nothing
leaves the machine. Only chat completions are covered here: the proxy's key management
needs a database through a Prisma engine that cannot be downloaded in this environment, so
virtual keys and deployments are covered by the respx emulation (tests/contract; what it
models, from which LiteLLM source: docs/litellm-emulation.md).
`make test` installs the proxy into .venv-litellm.
"""

import os
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from adapters.litellm.gateway import LiteLlmGateway
from application.gateway_errors import GatewayError
from application.ports.llm_stream import ChatDelta
from application.ports.llm_tools import ToolSpec
from application.ports.llm_types import ChatMessage, ChatRequest, ChatResult
from tests.support.processes import free_port

LITELLM = Path(__file__).resolve().parents[2] / ".venv-litellm" / "bin" / "litellm"
MASTER_KEY = "sk-master-for-tests"
CONFIG = """
model_list:
  - model_name: mock-gpt
    litellm_params:
      model: openai/gpt-4o-mini
      api_key: sk-not-a-real-provider-key
      mock_response: "Hello from the mock"
  - model_name: mock-tools
    litellm_params:
      model: openai/gpt-4o-mini
      api_key: sk-not-a-real-provider-key
      mock_response: ""
      mock_tool_calls:
        - id: call_mock_1
          type: function
          function:
            name: ticket_status
            arguments: '{{"ticket_id": "T-42"}}'
general_settings:
  master_key: {master}
"""


@pytest.fixture(scope="module")
def proxy_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    if not LITELLM.exists():
        if os.environ.get("CI") == "true":
            pytest.fail(f"{LITELLM} is missing: `make test` installs it")
        pytest.skip("no LiteLLM proxy installed (make test installs one)")
    config = tmp_path_factory.mktemp("litellm") / "config.yaml"
    config.write_text(CONFIG.format(master=MASTER_KEY))
    port = free_port()
    env = {**os.environ, "LITELLM_LOCAL_MODEL_COST_MAP": "True", "LITELLM_TELEMETRY": "False"}
    process = subprocess.Popen(
        [str(LITELLM), "--config", str(config), "--host", "127.0.0.1", "--port", str(port)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"{url}/health/liveliness", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                time.sleep(0.3)
        else:
            pytest.fail("the LiteLLM proxy did not start")
        yield url
    finally:
        process.terminate()
        process.wait(timeout=20)


def _request(model: str = "mock-gpt") -> ChatRequest:
    return ChatRequest(
        model=model,
        messages=(ChatMessage("system", "Be brief."), ChatMessage("user", "hi")),
        temperature=0.2,
        max_tokens=50,
    )


async def test_chat_completion_through_a_real_proxy(proxy_url: str) -> None:
    gateway = LiteLlmGateway(proxy_url, MASTER_KEY, timeout_s=30)
    try:
        result = await gateway.chat(_request())
    finally:
        await gateway.aclose()
    assert result.content == "Hello from the mock"
    assert result.usage.total_tokens == result.usage.prompt_tokens + result.usage.completion_tokens
    assert result.usage.total_tokens > 0
    assert result.cost is not None
    assert result.cost > 0


async def test_errors_from_a_real_proxy_are_gateway_errors(proxy_url: str) -> None:
    wrong_key = LiteLlmGateway(proxy_url, "sk-wrong-master", timeout_s=30)
    unknown_model = LiteLlmGateway(proxy_url, MASTER_KEY, timeout_s=30)
    try:
        with pytest.raises(GatewayError) as raised:
            await wrong_key.chat(_request())
        assert "sk-wrong-master" not in str(raised.value)
        with pytest.raises(GatewayError):
            await unknown_model.chat(_request(model="no-such-model"))
    finally:
        await wrong_key.aclose()
        await unknown_model.aclose()


async def test_one_tool_call_round_trip_through_a_real_proxy(proxy_url: str) -> None:
    """Tools go out and tool calls come back in LiteLLM's (OpenAI's) format; the tool's
    result, sent back as a `tool` message after the assistant's call, is accepted."""
    tool = ToolSpec(
        "ticket_status",
        "Look up a ticket",
        {"type": "object", "properties": {"ticket_id": {"type": "string"}}},
    )
    ask = ChatRequest("mock-tools", (ChatMessage("user", "status of T-42?"),), tools=(tool,))
    gateway = LiteLlmGateway(proxy_url, MASTER_KEY, timeout_s=30)
    try:
        first = await gateway.chat(ask)
        assert [(c.id, c.name, c.arguments) for c in first.tool_calls] == [
            ("call_mock_1", "ticket_status", '{"ticket_id": "T-42"}')
        ]
        follow_up = (
            *ask.messages,
            ChatMessage("assistant", "", first.tool_calls),
            ChatMessage("tool", "ticket T-42 is OPEN", tool_call_id="call_mock_1"),
        )
        second = await gateway.chat(
            ChatRequest("mock-gpt", follow_up, tools=(tool,), max_tokens=50)
        )
    finally:
        await gateway.aclose()
    assert second.content == "Hello from the mock"
    assert second.tool_calls == ()


async def test_a_streamed_chat_through_a_real_proxy(proxy_url: str) -> None:
    """LiteLLM streams a mock response in several chunks; the deltas add up to the answer,
    the usage chunk (asked for with `stream_options`) gives the tokens, and the connection
    is left clean for the next call."""
    gateway = LiteLlmGateway(proxy_url, MASTER_KEY, timeout_s=30)
    try:
        items = [item async for item in gateway.stream(_request())]
        again = await gateway.chat(_request())
    finally:
        await gateway.aclose()
    *deltas, result = items
    assert isinstance(result, ChatResult)
    assert all(isinstance(d, ChatDelta) for d in deltas)
    assert len(deltas) > 1
    assert "".join(d.content for d in deltas if isinstance(d, ChatDelta)) == "Hello from the mock"
    assert result.content == "Hello from the mock"
    assert result.usage.total_tokens == result.usage.prompt_tokens + result.usage.completion_tokens
    assert result.usage.total_tokens > 0
    assert again.content == "Hello from the mock"
