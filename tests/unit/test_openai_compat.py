"""The OpenAI-compatible surface through the official `openai` package, unmodified (only
its base URL points at agentkeel, served by a real uvicorn over in-memory adapters and the
fake gateway): completions streamed and not, chunks arriving as they are produced, the
agent's configuration applied, executions recorded, models listed, and errors as the
package raises them."""

import asyncio
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import httpx
import openai
import pytest

from application.gateway_errors import GatewayUnavailable, RateLimited
from tests.support.http_app import InMemoryApp, in_memory_app
from tests.support.live_server import live_server

PROMPT = "You are the triage agent."


@dataclass
class World:
    app: InMemoryApp
    http: httpx.AsyncClient
    client: openai.AsyncOpenAI
    headers: dict[str, str]
    agent: dict[str, Any]

    async def execution(self, execution_id: str) -> dict[str, Any]:
        response = await self.http.get(f"/api/executions/{execution_id}", headers=self.headers)
        assert response.status_code == 200
        found: dict[str, Any] = response.json()
        return found


async def _agent(http: httpx.AsyncClient, headers: dict[str, str], **fields: Any) -> Any:
    body = {"name": "triage", "system_prompt": PROMPT, "temperature": 0.3, **fields}
    response = await http.post("/api/agents", json=body, headers=headers)
    assert response.status_code == 201, response.text
    return response.json()


@pytest.fixture
async def world() -> AsyncIterator[World]:
    app = in_memory_app()
    async with live_server(app.app) as url, httpx.AsyncClient(base_url=url) as http:
        tenant, headers = await app.acme(http)
        key = tenant["api_key"]
        agent = await _agent(http, headers, max_tokens=40)
        client = openai.AsyncOpenAI(api_key=key, base_url=f"{url}/v1", max_retries=0)
        try:
            yield World(app, http, client, headers, agent)
        finally:
            await client.close()


MESSAGES: list[Any] = [
    {"role": "system", "content": "Answer in English."},
    {"role": "user", "content": "The printer is jammed"},
    {"role": "assistant", "content": "Which floor?"},
    {
        "role": "user",
        "content": [{"type": "text", "text": "Floor "}, {"type": "text", "text": "3"}],
    },
]


async def test_a_completion_runs_the_agent_on_the_callers_messages(world: World) -> None:
    completion = await world.client.chat.completions.create(
        model=world.agent["id"], messages=MESSAGES, temperature=1.9
    )
    assert completion.object == "chat.completion"
    assert completion.model == world.agent["id"]
    [choice] = completion.choices
    assert choice.message.role == "assistant"
    assert choice.message.content == "echo: Floor 3"
    assert choice.finish_reason == "stop"
    assert completion.usage is not None and completion.usage.completion_tokens == 3
    sent = world.app.gateway.calls[-1]
    assert [(m.role, m.content) for m in sent.messages] == [
        ("system", PROMPT),
        ("system", "Answer in English."),
        ("user", "The printer is jammed"),
        ("assistant", "Which floor?"),
        ("user", "Floor 3"),
    ]
    assert (sent.model, sent.temperature, sent.max_tokens) == ("gpt-4o-mini", 0.3, 40)
    execution_id = completion.id.removeprefix("chatcmpl-")
    stored = await world.execution(execution_id)
    assert (stored["status"], stored["output"], stored["input"]) == (
        "success",
        "echo: Floor 3",
        "Floor 3",
    )
    assert stored["agent_id"] == world.agent["id"]


async def test_agent_name_works_as_the_model(world: World) -> None:
    completion = await world.client.chat.completions.create(
        model="agent:triage", messages=[{"role": "user", "content": "hi"}]
    )
    assert completion.choices[0].message.content == "echo: hi"


async def test_a_streamed_completion_is_chunks_the_package_reads(world: World) -> None:
    stream = await world.client.chat.completions.create(
        model=world.agent["id"],
        messages=[{"role": "user", "content": "one two three"}],
        stream=True,
        stream_options={"include_usage": True},
    )
    chunks = [chunk async for chunk in stream]
    assert {c.object for c in chunks} == {"chat.completion.chunk"}
    assert len({c.id for c in chunks}) == 1
    assert chunks[0].choices[0].delta.role == "assistant"
    pieces = [
        c.choices[0].delta.content for c in chunks if c.choices and c.choices[0].delta.content
    ]
    assert pieces == ["echo: ", "one ", "two ", "three"]
    assert [c.choices[0].finish_reason for c in chunks if c.choices][-1] == "stop"
    assert chunks[-1].choices == [] and chunks[-1].usage is not None
    assert chunks[-1].usage.completion_tokens == 4
    stored = await world.execution(chunks[0].id.removeprefix("chatcmpl-"))
    assert (stored["status"], stored["output"]) == ("success", "echo: one two three")


async def test_chunks_arrive_while_the_agent_is_still_answering(world: World) -> None:
    gate = asyncio.Event()
    world.app.gateway.stream_gate = gate  # the answer stops after its first delta
    stream = await world.client.chat.completions.create(
        model=world.agent["id"], messages=[{"role": "user", "content": "a b"}], stream=True
    )
    iterator = stream.__aiter__()
    role = await asyncio.wait_for(iterator.__anext__(), timeout=5)
    first = await asyncio.wait_for(iterator.__anext__(), timeout=5)
    assert (role.choices[0].delta.role, first.choices[0].delta.content) == ("assistant", "echo: ")
    gate.set()
    rest = [chunk.choices[0].delta.content async for chunk in iterator if chunk.choices]
    assert "".join(c or "" for c in rest) == "a b"


async def test_without_include_usage_no_usage_chunk(world: World) -> None:
    stream = await world.client.chat.completions.create(
        model=world.agent["id"], messages=[{"role": "user", "content": "x"}], stream=True
    )
    chunks = [chunk async for chunk in stream]
    assert all(c.choices for c in chunks) and all(c.usage is None for c in chunks)


async def test_unknown_agent_is_404_in_openais_shape(world: World) -> None:
    for model in (str(uuid.uuid4()), "agent:nobody", "gpt-4o"):
        with pytest.raises(openai.NotFoundError) as raised:
            await world.client.chat.completions.create(
                model=model, messages=[{"role": "user", "content": "hi"}]
            )
        assert raised.value.code == "model_not_found"
        assert raised.value.type == "invalid_request_error"


async def test_another_tenants_agent_is_404(world: World) -> None:
    body = {"name": "other", "admin_email": "ops@other.example"}
    other = (await world.http.post("/api/tenants", json=body, headers=world.app.operator)).json()
    theirs = await _agent(world.http, {"Authorization": f"Bearer {other['api_key']}"})
    with pytest.raises(openai.NotFoundError):
        await world.client.chat.completions.create(
            model=theirs["id"], messages=[{"role": "user", "content": "hi"}]
        )


@pytest.mark.parametrize("key", ["ak_tn_" + "x" * 43, "not-a-key"])
async def test_a_bad_key_is_401_in_openais_shape(world: World, key: str) -> None:
    client = world.client.with_options(api_key=key)
    with pytest.raises(openai.AuthenticationError) as raised:
        await client.chat.completions.create(
            model=world.agent["id"], messages=[{"role": "user", "content": "hi"}]
        )
    assert raised.value.status_code == 401
    body = raised.value.body
    assert isinstance(body, dict) and set(body) == {"message", "type", "param", "code"}
    with pytest.raises(openai.AuthenticationError):
        await client.models.list()


async def test_the_operator_key_is_refused(world: World) -> None:
    client = world.client.with_options(api_key=world.app.operator_key)
    with pytest.raises(openai.PermissionDeniedError):
        await client.chat.completions.create(
            model=world.agent["id"], messages=[{"role": "user", "content": "hi"}]
        )


async def test_invalid_requests_are_422_with_the_field_as_param(world: World) -> None:
    response = await world.http.post(
        "/v1/chat/completions",
        json={"model": world.agent["id"], "messages": [{"role": "tool", "content": "x"}]},
        headers=world.headers,
    )
    assert response.status_code == 422
    error = response.json()["error"]
    assert error["type"] == "invalid_request_error" and error["param"] == "role"
    empty = {"model": world.agent["id"], "messages": []}
    response = await world.http.post("/v1/chat/completions", json=empty, headers=world.headers)
    assert response.status_code == 422 and response.json()["error"]["param"] == "messages"


async def test_gateway_failures_keep_their_status(world: World) -> None:
    world.app.gateway.fail_next(RateLimited(7.0), "chat")
    with pytest.raises(openai.RateLimitError) as raised:
        await world.client.chat.completions.create(
            model=world.agent["id"], messages=[{"role": "user", "content": "hi"}]
        )
    assert raised.value.response.headers["retry-after"] == "7"
    world.app.gateway.fail_mid_stream_next(GatewayUnavailable("down"), after=1)
    stream = await world.client.chat.completions.create(
        model=world.agent["id"], messages=[{"role": "user", "content": "a b c"}], stream=True
    )
    seen: list[str] = []

    async def read_all() -> None:
        async for chunk in stream:
            seen.append(chunk.choices[0].delta.content or "")

    with pytest.raises(openai.APIError, match="The LLM gateway failed"):
        await read_all()
    assert "".join(seen) == "echo: "
    runs = sorted(world.app.store.executions.values(), key=lambda e: e.created_at)
    assert [(e.status.value, e.output) for e in runs] == [("failed", None), ("failed", "echo: ")]


async def test_models_lists_the_callers_active_agents(world: World) -> None:
    await _agent(world.http, world.headers, name="drafty", status="draft")
    second = await _agent(world.http, world.headers, name="second")
    page = await world.client.models.list()
    assert [m.id for m in page.data] == [world.agent["id"], second["id"]]
    assert {m.object for m in page.data} == {"model"}


async def test_a_byok_agent_runs_through_its_tenants_virtual_key(world: World) -> None:
    tenant_id = world.agent["tenant_id"]
    body = {"provider_name": "openai", "api_key": "sk-tenant-provider-1234", "model": "gpt-4o"}
    url = f"/api/tenants/{tenant_id}/providers"
    provider = await world.http.post(url, json=body, headers=world.headers)
    assert provider.status_code == 201, provider.text
    await _agent(world.http, world.headers, name="byok", use_byok=True)
    stream = await world.client.chat.completions.create(
        model="agent:byok", messages=[{"role": "user", "content": "hi"}], stream=True
    )
    assert [c async for c in stream][-1].choices[0].finish_reason == "stop"
    sent = world.app.gateway.calls[-1]
    assert sent.api_key == provider.json()["virtual_key"]
    assert sent.model == f"agentkeel-{tenant_id}-{provider.json()['id']}"
