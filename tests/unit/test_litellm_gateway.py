"""LiteLLM-specific chat behaviour of `LiteLlmGateway`, against respx routes: wire shape,
cost header, retries (the sleep is replaced, so nothing really waits), error mapping, and
no key in any error or log. Admin calls: test_litellm_gateway_admin.py."""

import json
from collections.abc import AsyncIterator, Iterator

import httpx
import pytest
import respx

from adapters.litellm.gateway import LiteLlmGateway
from adapters.litellm.retry import parse_retry_after
from application.gateway_errors import (
    BudgetExceeded,
    GatewayError,
    GatewayTimeout,
    GatewayUnavailable,
    InvalidProviderKey,
    RateLimited,
    UnknownVirtualKey,
)
from application.ports.llm_types import ChatMessage, ChatRequest
from tests.support import litellm_bodies as bodies

BASE_URL = "http://litellm.test"
MASTER_KEY = "sk-master-unit-9d8c7b6a"
VIRTUAL_KEY = "sk-virtual-unit-1a2b3c4d"
PROVIDER_KEY = "sk-proj-provider-5e6f7a8b"


@pytest.fixture
def proxy() -> Iterator[respx.MockRouter]:
    with respx.mock(base_url=BASE_URL, assert_all_called=False) as router:
        yield router


@pytest.fixture
def sleeps() -> list[float]:
    return []


@pytest.fixture(scope="module")
async def http_transport() -> AsyncIterator[httpx.AsyncHTTPTransport]:
    """One pool for the module, as in production (and building pools is slow); httpx's
    own transport, which respx intercepts."""
    async with httpx.AsyncHTTPTransport() as transport:
        yield transport


@pytest.fixture
def gateway(sleeps: list[float], http_transport: httpx.AsyncHTTPTransport) -> LiteLlmGateway:
    async def no_wait(seconds: float) -> None:
        sleeps.append(seconds)

    return LiteLlmGateway(
        BASE_URL, MASTER_KEY, 7.5, max_retries=2, sleep=no_wait, transport=http_transport
    )


def _ask(api_key: str | None = VIRTUAL_KEY) -> ChatRequest:
    messages = (ChatMessage("system", "Be brief."), ChatMessage("user", "Hi"))
    return ChatRequest("tenant-a-openai", messages, 0.2, 50, api_key)


def _answer() -> httpx.Response:
    return bodies.completion("Hello there", "gpt-4o-mini-2024-07-18", 12, 0.0000123)


def _rate_limited(retry_after: str) -> httpx.Response:
    response = bodies.error(429, "Max parallel request limit reached.", "None", "None")
    response.headers["retry-after"] = retry_after
    return response


async def test_chat_sends_openai_shape_with_the_virtual_key(
    proxy: respx.MockRouter, gateway: LiteLlmGateway
) -> None:
    route = proxy.post("/chat/completions").mock(side_effect=lambda _: _answer())
    result = await gateway.chat(_ask())
    sent = route.calls.last.request
    assert json.loads(sent.content) == {
        "model": "tenant-a-openai",
        "messages": [
            {"role": "system", "content": "Be brief."},
            {"role": "user", "content": "Hi"},
        ],
        "temperature": 0.2,
        "max_tokens": 50,
    }
    assert sent.headers["authorization"] == f"Bearer {VIRTUAL_KEY}"
    assert sent.extensions["timeout"] == dict.fromkeys(("connect", "read", "write", "pool"), 7.5)
    assert (result.content, result.model) == ("Hello there", "gpt-4o-mini-2024-07-18")
    assert (result.usage.prompt_tokens, result.usage.total_tokens) == (12, 14)
    assert result.cost == pytest.approx(0.0000123)


async def test_chat_without_virtual_key_bills_the_master_key(
    proxy: respx.MockRouter, gateway: LiteLlmGateway
) -> None:
    route = proxy.post("/chat/completions").mock(side_effect=lambda _: _answer())
    await gateway.chat(ChatRequest("gpt-4o-mini", (ChatMessage("user", "Hi"),)))
    sent = route.calls.last.request
    assert sent.headers["authorization"] == f"Bearer {MASTER_KEY}"
    assert "max_tokens" not in json.loads(sent.content)


@pytest.mark.parametrize("header", [None, "not-a-number", "nan"])
async def test_missing_or_bad_cost_header_is_none(
    proxy: respx.MockRouter, gateway: LiteLlmGateway, header: str | None
) -> None:
    answer = bodies.completion("Hi", "gpt-4o-mini", 3, None)
    if header is not None:
        answer.headers["x-litellm-response-cost"] = header
    proxy.post("/chat/completions").mock(return_value=answer)
    assert (await gateway.chat(_ask())).cost is None


@pytest.mark.parametrize("status", [502, 503])
async def test_retries_502_and_503_then_succeeds(
    proxy: respx.MockRouter, gateway: LiteLlmGateway, sleeps: list[float], status: int
) -> None:
    failure = bodies.error(status, "No deployments available for selected model", "None")
    route = proxy.post("/chat/completions").mock(side_effect=[failure, _answer()])
    assert (await gateway.chat(_ask())).content == "Hello there"
    assert route.call_count == 2
    assert len(sleeps) == 1 and 0.0 <= sleeps[0] <= 0.2  # jittered first backoff


async def test_429_retry_after_is_honoured(
    proxy: respx.MockRouter, gateway: LiteLlmGateway, sleeps: list[float]
) -> None:
    route = proxy.post("/chat/completions").mock(side_effect=[_rate_limited("1.5"), _answer()])
    await gateway.chat(_ask())
    assert route.call_count == 2
    assert sleeps == [1.5]


async def test_429_after_bounded_retries_is_rate_limited(
    proxy: respx.MockRouter, gateway: LiteLlmGateway, sleeps: list[float]
) -> None:
    route = proxy.post("/chat/completions").mock(side_effect=lambda _: _rate_limited("2"))
    with pytest.raises(RateLimited) as limited:
        await gateway.chat(_ask())
    assert limited.value.retry_after == 2.0
    assert route.call_count == 3 and sleeps == [2.0, 2.0]


async def test_429_asking_longer_than_the_cap_fails_at_once(
    proxy: respx.MockRouter, gateway: LiteLlmGateway, sleeps: list[float]
) -> None:
    route = proxy.post("/chat/completions").mock(return_value=_rate_limited("120"))
    with pytest.raises(RateLimited) as limited:
        await gateway.chat(_ask())
    assert limited.value.retry_after == 120.0
    assert route.call_count == 1 and sleeps == []


@pytest.mark.parametrize("status", [400, 500])
async def test_other_errors_are_not_retried(
    proxy: respx.MockRouter, gateway: LiteLlmGateway, sleeps: list[float], status: int
) -> None:
    message = "{'error': '/chat/completions: Invalid model name passed in model=nope'}"
    route = proxy.post("/chat/completions").mock(return_value=bodies.error(status, message, "None"))
    with pytest.raises(GatewayError) as failed:
        await gateway.chat(_ask())
    assert type(failed.value) is (GatewayError if status == 400 else GatewayUnavailable)
    assert route.call_count == 1 and sleeps == []


@pytest.mark.parametrize("status", [400, 429])
async def test_budget_exceeded(
    proxy: respx.MockRouter, gateway: LiteLlmGateway, status: int
) -> None:
    message = "Budget has been exceeded! Current cost: 5.0012, Max budget: 5.0"
    refusal = bodies.error(status, message, "budget_exceeded")
    route = proxy.post("/chat/completions").mock(return_value=refusal)
    with pytest.raises(BudgetExceeded):
        await gateway.chat(_ask())
    assert route.call_count == 1  # retrying cannot help


async def test_provider_rejecting_its_key_is_invalid_provider_key(
    proxy: respx.MockRouter, gateway: LiteLlmGateway
) -> None:
    message = (
        "litellm.AuthenticationError: AuthenticationError: OpenAIException - Incorrect API key "
        f"provided: {PROVIDER_KEY}. You can find your API key at "
        "https://platform.openai.com/account/api-keys.\nReceived Model Group=tenant-a-openai"
    )
    route = proxy.post("/chat/completions").mock(return_value=bodies.error(401, message, None))
    with pytest.raises(InvalidProviderKey):
        await gateway.chat(_ask())
    assert route.call_count == 1


async def test_gateway_refusing_the_virtual_key_is_unknown_virtual_key(
    proxy: respx.MockRouter, gateway: LiteLlmGateway
) -> None:
    message = f"Authentication Error, Invalid proxy server token passed. key={VIRTUAL_KEY}"
    refusal = bodies.error(401, message, "token_not_found_in_db", "key")
    proxy.post("/chat/completions").mock(return_value=refusal)
    with pytest.raises(UnknownVirtualKey):
        await gateway.chat(_ask())


async def test_connect_error_is_unavailable_after_bounded_retries(
    proxy: respx.MockRouter, gateway: LiteLlmGateway, sleeps: list[float]
) -> None:
    route = proxy.post("/chat/completions").mock(side_effect=httpx.ConnectError("refused"))
    with pytest.raises(GatewayUnavailable):
        await gateway.chat(_ask())
    assert route.call_count == 3 and len(sleeps) == 2
    assert all(0.0 <= wait <= 5.0 for wait in sleeps)


async def test_read_timeout_of_chat_is_gateway_timeout_without_retry(
    proxy: respx.MockRouter, gateway: LiteLlmGateway, sleeps: list[float]
) -> None:
    route = proxy.post("/chat/completions").mock(side_effect=httpx.ReadTimeout("slow"))
    with pytest.raises(GatewayTimeout):
        await gateway.chat(_ask())
    assert route.call_count == 1 and sleeps == []  # it may have run and been billed


async def test_read_timeout_of_idempotent_key_info_is_retried(
    proxy: respx.MockRouter, gateway: LiteLlmGateway
) -> None:
    route = proxy.get("/key/info").mock(side_effect=httpx.ReadTimeout("slow"))
    with pytest.raises(GatewayTimeout):
        await gateway.key_info(VIRTUAL_KEY)
    assert route.call_count == 3


LEAKY = f"key={VIRTUAL_KEY} master={MASTER_KEY} provider={PROVIDER_KEY}"
FAILURES = [
    bodies.error(401, LEAKY, None),
    bodies.error(401, LEAKY, "token_not_found_in_db", "key"),
    bodies.error(400, LEAKY, "budget_exceeded"),
    bodies.error(400, LEAKY, "None"),
    bodies.error(503, LEAKY, "None"),
    bodies.error(429, LEAKY, "None"),
    httpx.ConnectError(LEAKY),
    httpx.ReadTimeout(LEAKY),
]


def _shown(exc: BaseException | None) -> str:
    """What a traceback shows: the exception and the chain Python prints with it."""
    if exc is None:
        return ""
    shown_next = exc.__cause__ or (None if exc.__suppress_context__ else exc.__context__)
    return f"{exc} {exc!r} {_shown(shown_next)}"


@pytest.mark.parametrize("failure", FAILURES, ids=range(len(FAILURES)))
async def test_keys_never_appear_in_errors_or_logs(
    proxy: respx.MockRouter,
    gateway: LiteLlmGateway,
    caplog: pytest.LogCaptureFixture,
    failure: httpx.Response | Exception,
) -> None:
    mock = {"side_effect": failure} if isinstance(failure, Exception) else {"return_value": failure}
    proxy.post("/chat/completions").mock(**mock)
    proxy.get("/key/info").mock(**mock)
    request = _ask()
    for call in (lambda: gateway.chat(request), lambda: gateway.key_info(VIRTUAL_KEY)):
        with pytest.raises(GatewayError) as failed:
            await call()
        seen = _shown(failed.value) + caplog.text + repr(request)
        for secret in (MASTER_KEY, VIRTUAL_KEY, PROVIDER_KEY):
            assert secret not in seen


@pytest.mark.parametrize(
    ("header", "seconds"),
    [("3", 3.0), ("0.5", 0.5), ("-1", 0.0), ("Wed, 21 Oct 2015 07:28:00 GMT", 0.0), ("soon", None)],
)
def test_retry_after_header_forms(header: str, seconds: float | None) -> None:
    assert parse_retry_after(header) == seconds
