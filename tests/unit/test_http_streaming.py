"""Streamed sync runs (`POST /api/agents/execute` as server-sent events) over in-memory
adapters and the fake gateway: events, the recorded execution, failures before and during
the stream, and a client that hangs up mid-stream (raw ASGI, as uvicorn reports it)."""

import asyncio
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest

from application.gateway_errors import GatewayTimeout, GatewayUnavailable, UnknownVirtualKey
from domain.execution import ExecutionStatus
from tests.support.http_app import InMemoryApp, in_memory_app
from tests.support.sse import Event, all_events


@dataclass
class World:
    app: InMemoryApp
    client: httpx.AsyncClient
    headers: dict[str, str]
    agent_id: str

    async def stream(self, text: str = "one two three four", **kw: Any) -> httpx.Response:
        body = {"agent_id": self.agent_id, "input": text, **kw}
        return await self.client.post("/api/agents/execute", json=body, headers=self.headers)

    async def execution(self, execution_id: str) -> dict[str, Any]:
        response = await self.client.get(f"/api/executions/{execution_id}", headers=self.headers)
        assert response.status_code == 200
        found: dict[str, Any] = response.json()
        return found


@pytest.fixture
async def world() -> AsyncIterator[World]:
    app = in_memory_app()
    transport = httpx.ASGITransport(app=app.app)  # type: ignore[arg-type]
    async with httpx.AsyncClient(transport=transport, base_url="http://agentkeel") as client:
        _, headers = await app.acme(client)
        agent = {"name": "triage", "system_prompt": "Be brief.", "temperature": 0.3}
        made = (await client.post("/api/agents", json=agent, headers=headers)).json()
        yield World(app, client, headers, made["id"])


def deltas(events: list[Event]) -> list[str]:
    return [e.data["content"] for e in events if e.event == "delta"]


async def test_stream_true_sends_each_delta_then_the_recorded_execution(world: World) -> None:
    response = await world.stream(stream=True)
    assert response.status_code == 200
    assert response.headers["content-type"] == "text/event-stream"
    events = await all_events(response)
    assert deltas(events) == ["echo: ", "one ", "two ", "three ", "four"]
    done = events[-1]
    assert [e.event for e in events].count("done") == 1 and done.event == "done"
    assert done.data["status"] == "success"
    assert done.data["output"] == "echo: one two three four"
    assert done.data["usage"] == {"prompt_tokens": 6, "completion_tokens": 5, "total_tokens": 11}
    assert done.data["cost"] == pytest.approx(11 * 0.000001)
    assert isinstance(done.data["latency_ms"], int)
    stored = await world.execution(done.data["execution_id"])
    assert (stored["status"], stored["output"]) == ("success", "echo: one two three four")
    sent = world.app.gateway.calls[-1]
    assert [m.role for m in sent.messages] == ["system", "user"]
    assert sent.temperature == 0.3


async def test_accept_event_stream_streams_too_and_json_stays_json(world: World) -> None:
    body = {"agent_id": world.agent_id, "input": "hi"}
    headers = {**world.headers, "Accept": "text/event-stream"}
    streamed = await world.client.post("/api/agents/execute", json=body, headers=headers)
    assert streamed.headers["content-type"] == "text/event-stream"
    assert (await all_events(streamed))[-1].event == "done"
    plain = await world.client.post("/api/agents/execute", json=body, headers=world.headers)
    assert plain.headers["content-type"] == "application/json"
    assert plain.json()["output"] == "echo: hi"


@pytest.mark.parametrize(
    ("failure", "status", "recorded"),
    [
        (UnknownVirtualKey("gone"), 502, "failed"),
        (GatewayTimeout("slow"), 504, "timed_out"),
    ],
)
async def test_a_refusal_before_any_delta_is_an_ordinary_error_response(
    world: World, failure: Exception, status: int, recorded: str
) -> None:
    world.app.gateway.fail_next(failure, "chat")
    response = await world.stream(stream=True)
    assert response.status_code == status
    assert response.headers["content-type"] == "application/json"
    [execution] = world.app.store.executions.values()
    assert execution.status.value == recorded


async def test_a_failure_mid_stream_is_an_error_event_and_recorded_failed(world: World) -> None:
    world.app.gateway.fail_mid_stream_next(GatewayUnavailable("down"), after=2)
    response = await world.stream(stream=True)
    assert response.status_code == 200
    events = await all_events(response)
    assert deltas(events) == ["echo: ", "one "]
    error = events[-1]
    assert error.event == "error"
    assert error.data["status"] == "failed"
    assert error.data["status_code"] == 502
    assert error.data["detail"] == "The LLM gateway failed"
    stored = await world.execution(error.data["execution_id"])
    assert stored["status"] == "failed"
    assert stored["output"] == "echo: one "  # what the caller saw before the failure


async def test_a_stream_of_an_unknown_agent_is_404_json(world: World) -> None:
    body = {"agent_id": str(uuid.uuid4()), "input": "hi", "stream": True}
    response = await world.client.post("/api/agents/execute", json=body, headers=world.headers)
    assert response.status_code == 404
    assert response.json() == {"detail": "Agent not found"}


async def test_a_client_hanging_up_mid_stream_records_cancelled_with_output_so_far(
    world: World,
) -> None:
    """Raw ASGI: after the first body chunk the client disconnects (what uvicorn reports);
    the run must end `cancelled`, keeping what had been sent."""
    gate = asyncio.Event()
    world.app.gateway.stream_gate = gate  # the stream stops after its first delta
    body = f'{{"agent_id": "{world.agent_id}", "input": "a b c", "stream": true}}'.encode()
    sent: list[dict[str, Any]] = []
    first_chunk = asyncio.Event()
    requested = False

    async def receive() -> dict[str, Any]:
        nonlocal requested
        if not requested:
            requested = True
            return {"type": "http.request", "body": body, "more_body": False}
        await first_chunk.wait()
        return {"type": "http.disconnect"}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)
        if message["type"] == "http.response.body" and message.get("body"):
            first_chunk.set()

    auth = world.headers["Authorization"].encode()
    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "POST",
        "scheme": "http",
        "path": "/api/agents/execute",
        "raw_path": b"/api/agents/execute",
        "query_string": b"",
        "root_path": "",
        "headers": [(b"authorization", auth), (b"content-type", b"application/json")],
        "client": ("127.0.0.1", 1),
        "server": ("agentkeel", 80),
    }
    await asyncio.wait_for(world.app.app(scope, receive, send), timeout=5)  # type: ignore[arg-type]
    assert sent[0]["status"] == 200
    for _ in range(100):  # the record is shielded: it may finish just after the app
        [execution] = world.app.store.executions.values()
        if execution.status is not ExecutionStatus.RUNNING:
            break
        await asyncio.sleep(0.01)
    assert execution.status is ExecutionStatus.CANCELLED
    assert execution.output == "echo: "
    assert execution.finished_at is not None


async def test_the_openapi_document_describes_the_event_streams(world: World) -> None:
    paths = (await world.client.get("/schema/openapi.json")).json()["paths"]

    def ok_types(path: str, method: str) -> set[str]:
        return set(paths[path][method]["responses"]["200"]["content"])

    both = {"application/json", "text/event-stream"}
    assert ok_types("/api/agents/execute", "post") == both
    assert ok_types("/v1/chat/completions", "post") == both
    assert ok_types("/api/executions/{execution_id}/events", "get") == {"text/event-stream"}
    body = paths["/api/agents/execute"]["post"]["requestBody"]["content"]["application/json"]
    assert body["schema"]["$ref"].endswith("/ExecuteNow")
