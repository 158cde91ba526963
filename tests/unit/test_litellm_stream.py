"""`LiteLlmGateway.stream` against respx routes answering like LiteLLM 1.108 does: the wire
request, deltas in order, usage and cost from the last chunk, errors before and during the
stream, and no key in any error."""

import json
from collections.abc import AsyncIterator, Iterator

import httpx
import pytest
import respx

from adapters.litellm.gateway import LiteLlmGateway
from application.gateway_errors import (
    GatewayError,
    GatewayUnavailable,
    RateLimited,
    UnknownVirtualKey,
)
from application.ports.llm_stream import ChatDelta, ChatStreamItem
from application.ports.llm_types import ChatMessage, ChatRequest, ChatResult
from tests.support import litellm_bodies as bodies

BASE_URL = "http://litellm.test"
MASTER_KEY = "sk-master-stream-4c3b2a19"
VIRTUAL_KEY = "sk-virtual-stream-7e8f9a0b"


@pytest.fixture
def proxy() -> Iterator[respx.MockRouter]:
    with respx.mock(base_url=BASE_URL, assert_all_called=False) as router:
        yield router


@pytest.fixture(scope="module")
async def http_transport() -> AsyncIterator[httpx.AsyncHTTPTransport]:
    async with httpx.AsyncHTTPTransport() as transport:
        yield transport


@pytest.fixture
def sleeps() -> list[float]:
    return []


@pytest.fixture
def gateway(sleeps: list[float], http_transport: httpx.AsyncHTTPTransport) -> LiteLlmGateway:
    async def no_wait(seconds: float) -> None:
        sleeps.append(seconds)

    return LiteLlmGateway(BASE_URL, MASTER_KEY, 7.5, sleep=no_wait, transport=http_transport)


def _ask(api_key: str | None = VIRTUAL_KEY) -> ChatRequest:
    messages = (ChatMessage("system", "Be brief."), ChatMessage("user", "Hi"))
    return ChatRequest("tenant-a-openai", messages, 0.2, 50, api_key)


async def _all(gateway: LiteLlmGateway, request: ChatRequest) -> list[ChatStreamItem]:
    return [item async for item in gateway.stream(request)]


async def test_stream_asks_for_usage_and_yields_each_delta_then_the_result(
    proxy: respx.MockRouter, gateway: LiteLlmGateway
) -> None:
    answer = bodies.stream(["Hel", "lo ", "there"], "gpt-4o-mini", 12, 0.0000036)
    route = proxy.post("/chat/completions").mock(return_value=answer)
    items = await _all(gateway, _ask())
    sent = route.calls.last.request
    assert json.loads(sent.content) == {
        "model": "tenant-a-openai",
        "messages": [
            {"role": "system", "content": "Be brief."},
            {"role": "user", "content": "Hi"},
        ],
        "temperature": 0.2,
        "max_tokens": 50,
        "stream": True,
        "stream_options": {"include_usage": True},
    }
    assert sent.headers["authorization"] == f"Bearer {VIRTUAL_KEY}"
    assert sent.headers["accept"] == "text/event-stream"
    assert items[:3] == [ChatDelta("Hel"), ChatDelta("lo "), ChatDelta("there")]
    result = items[3]
    assert isinstance(result, ChatResult) and len(items) == 4
    assert (result.content, result.model) == ("Hello there", "gpt-4o-mini")
    assert (result.usage.prompt_tokens, result.usage.completion_tokens) == (12, 2)
    assert result.cost == pytest.approx(0.0000036)


async def test_platform_stream_uses_the_master_key_and_cost_may_be_unknown(
    proxy: respx.MockRouter, gateway: LiteLlmGateway
) -> None:
    route = proxy.post("/chat/completions").mock(
        return_value=bodies.stream(["a", "b"], "m", 1, None)
    )
    items = await _all(gateway, _ask(api_key=None))
    assert route.calls.last.request.headers["authorization"] == f"Bearer {MASTER_KEY}"
    assert isinstance(items[-1], ChatResult) and items[-1].cost is None


async def test_refusal_before_the_stream_is_mapped_like_chat(
    proxy: respx.MockRouter, gateway: LiteLlmGateway
) -> None:
    refused = bodies.error(401, f"Authentication Error, {VIRTUAL_KEY} is blocked", "auth_error")
    proxy.post("/chat/completions").mock(return_value=refused)
    with pytest.raises(UnknownVirtualKey) as raised:
        await _all(gateway, _ask())
    assert VIRTUAL_KEY not in str(raised.value)


async def test_a_503_before_any_chunk_is_retried(
    proxy: respx.MockRouter, gateway: LiteLlmGateway, sleeps: list[float]
) -> None:
    failure = bodies.error(503, "No deployments available", "None")
    route = proxy.post("/chat/completions").mock(
        side_effect=[failure, bodies.stream(["ok"], "m", 1, None)]
    )
    items = await _all(gateway, _ask())
    assert route.call_count == 2 and len(sleeps) == 1
    assert items[0] == ChatDelta("ok")


async def test_429_is_rate_limited(proxy: respx.MockRouter, gateway: LiteLlmGateway) -> None:
    limited = bodies.error(429, "slow down", "None")
    limited.headers["retry-after"] = "30"
    proxy.post("/chat/completions").mock(return_value=limited)
    with pytest.raises(RateLimited) as raised:
        await _all(gateway, _ask())
    assert raised.value.retry_after == 30


def _sse(*events: str) -> httpx.Response:
    body = "".join(f"data: {event}\n\n" for event in events).encode()
    return httpx.Response(200, content=body, headers={"content-type": "text/event-stream"})


async def test_an_error_event_mid_stream_fails_after_the_deltas_sent(
    proxy: respx.MockRouter, gateway: LiteLlmGateway
) -> None:
    chunk = {"model": "m", "choices": [{"index": 0, "delta": {"content": "par"}}]}
    error = {"error": {"message": f"provider refused {VIRTUAL_KEY}", "type": "api_error"}}
    proxy.post("/chat/completions").mock(return_value=_sse(json.dumps(chunk), json.dumps(error)))
    seen: list[ChatStreamItem] = []

    async def read_all() -> None:
        async for item in gateway.stream(_ask()):
            seen.append(item)

    with pytest.raises(GatewayUnavailable) as raised:
        await read_all()
    assert seen == [ChatDelta("par")]
    assert "api_error" in str(raised.value) and VIRTUAL_KEY not in str(raised.value)


async def test_a_stream_cut_before_done_is_unavailable(
    proxy: respx.MockRouter, gateway: LiteLlmGateway
) -> None:
    proxy.post("/chat/completions").mock(
        return_value=bodies.stream(["a"], "m", 1, None, done=False)
    )
    with pytest.raises(GatewayUnavailable, match="ended early"):
        await _all(gateway, _ask())


@pytest.mark.parametrize("event", ["not json", "[1, 2]", '{"model": "m", "usage": {"x": 1}}'])
async def test_malformed_chunks_are_gateway_errors(
    proxy: respx.MockRouter, gateway: LiteLlmGateway, event: str
) -> None:
    proxy.post("/chat/completions").mock(return_value=_sse(event, "[DONE]"))
    with pytest.raises(GatewayError, match="malformed"):
        await _all(gateway, _ask())


async def test_done_without_usage_is_malformed(
    proxy: respx.MockRouter, gateway: LiteLlmGateway
) -> None:
    chunk = {"model": "m", "choices": [{"index": 0, "delta": {"content": "a"}}]}
    proxy.post("/chat/completions").mock(return_value=_sse(json.dumps(chunk), "[DONE]"))
    with pytest.raises(GatewayError, match="malformed"):
        await _all(gateway, _ask())


async def test_a_non_event_stream_answer_is_malformed(
    proxy: respx.MockRouter, gateway: LiteLlmGateway
) -> None:
    proxy.post("/chat/completions").mock(return_value=httpx.Response(200, json={"ok": 1}))
    with pytest.raises(GatewayError, match="malformed"):
        await _all(gateway, _ask())


async def test_an_event_stream_is_read_as_utf8_whatever_charset_it_names(
    proxy: respx.MockRouter, gateway: LiteLlmGateway
) -> None:
    # WHATWG HTML: event streams are always decoded as UTF-8; a proxy that labels one
    # latin-1 must not turn "café ✓" into mojibake.
    escaped = bodies.stream(["café ", "✓"], "gpt-4o-mini", 9, None).text
    raw = "".join(  # the same events with the characters as UTF-8 bytes, not \u escapes
        f"data: {json.dumps(json.loads(data), ensure_ascii=False)}\n\n"
        if (data := line.removeprefix("data: ")) != "[DONE]"
        else "data: [DONE]\n\n"
        for line in escaped.split("\n\n")
        if line
    )
    headers = {"content-type": "text/event-stream; charset=iso-8859-1"}
    answer = httpx.Response(200, content=raw.encode(), headers=headers)
    assert "é".encode() in answer.content
    proxy.post("/chat/completions").mock(return_value=answer)
    items = await _all(gateway, _ask())
    assert items[:2] == [ChatDelta("café "), ChatDelta("✓")]
    assert isinstance(items[-1], ChatResult) and items[-1].content == "café ✓"
