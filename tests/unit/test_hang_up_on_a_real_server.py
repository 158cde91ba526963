"""A client that hangs up on a streamed run, before its first delta (the gateway slow to
answer) or after it: the run is stopped and recorded `cancelled`, on real uvicorn over a
real socket, for `POST /api/agents/execute` and `POST /v1/chat/completions`. Uvicorn
cancels nothing: only the hang-up watch (entrypoints/http/hang_up.py) stops the run."""

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass

import httpx
import pytest

from domain.execution import ExecutionStatus
from tests.support.hang_up import post_then_hang_up, the_run_once_stopped
from tests.support.http_app import InMemoryApp, in_memory_app
from tests.support.live_server import live_server


@dataclass
class World:
    app: InMemoryApp
    url: str
    token: str
    agent_id: str


@pytest.fixture
async def world() -> AsyncIterator[World]:
    app = in_memory_app()
    async with live_server(app.app) as url, httpx.AsyncClient(base_url=url) as http:
        tenant, headers = await app.acme(http)
        agent = {"name": "triage", "system_prompt": "Be brief."}
        made = (await http.post("/api/agents", json=agent, headers=headers)).json()
        yield World(app, url, tenant["api_key"], made["id"])


def _streamed_body(path: str, agent_id: str) -> dict[str, object]:
    if path == "/v1/chat/completions":
        return {"model": agent_id, "messages": [{"role": "user", "content": "hi"}], "stream": True}
    return {"agent_id": agent_id, "input": "hi", "stream": True}


@pytest.mark.parametrize(
    "path", ["/api/agents/execute", "/v1/chat/completions"], ids=["execute", "v1"]
)
async def test_hanging_up_before_the_first_delta_records_the_run_cancelled(
    world: World, path: str
) -> None:
    gate = asyncio.Event()  # never set: the gateway has not answered when the client leaves
    world.app.gateway.answer_gate = gate
    calls, body = world.app.gateway.calls, _streamed_body(path, world.agent_id)
    await post_then_hang_up(world.url, path, world.token, body, lambda: bool(calls))
    execution = await the_run_once_stopped(world.app.store)
    assert execution.status is ExecutionStatus.CANCELLED
    assert execution.output == ""
    assert execution.finished_at is not None
    assert not gate.is_set()


@pytest.mark.parametrize(
    ("path", "marker"),
    [("/api/agents/execute", b"event: delta"), ("/v1/chat/completions", b'"content":"echo: "')],
    ids=["execute", "v1"],
)
async def test_hanging_up_after_the_first_delta_records_cancelled_with_it(
    world: World, path: str, marker: bytes
) -> None:
    gate = asyncio.Event()  # never set: the stream holds after its first delta
    world.app.gateway.stream_gate = gate
    calls, body = world.app.gateway.calls, _streamed_body(path, world.agent_id)
    await post_then_hang_up(world.url, path, world.token, body, lambda: bool(calls), marker)
    execution = await the_run_once_stopped(world.app.store)
    assert execution.status is ExecutionStatus.CANCELLED
    assert execution.output == "echo: "  # the first delta, which the client had
    assert not gate.is_set()


async def test_a_client_that_stays_gets_the_stream_after_a_slow_first_delta(
    world: World,
) -> None:
    """The watch ends when the first delta comes: the stream goes on as usual."""
    gate = asyncio.Event()
    world.app.gateway.answer_gate = gate
    body = {"agent_id": world.agent_id, "input": "one two", "stream": True}
    headers = {"Authorization": f"Bearer {world.token}"}
    async with httpx.AsyncClient(base_url=world.url) as http:
        call = asyncio.create_task(http.post("/api/agents/execute", json=body, headers=headers))
        for _ in range(500):
            if world.app.gateway.calls:
                break
            await asyncio.sleep(0.01)
        gate.set()
        response = await asyncio.wait_for(call, timeout=5)
    assert response.status_code == 200
    assert "event: done" in response.text
    [execution] = world.app.store.executions.values()
    assert execution.status is ExecutionStatus.SUCCESS
    assert execution.output == "echo: one two"


async def test_an_unstreamed_run_whose_client_hangs_up_ends_and_is_recorded(
    world: World,
) -> None:
    """Unstreamed, nothing watches the connection: the run goes on to its end and is
    recorded as usual (docs/api.md), its answer kept for `GET /api/executions`."""
    gate = asyncio.Event()
    world.app.gateway.answer_gate = gate
    calls, body = world.app.gateway.calls, {"agent_id": world.agent_id, "input": "still here"}
    await post_then_hang_up(
        world.url, "/api/agents/execute", world.token, body, lambda: bool(calls)
    )
    [execution] = world.app.store.executions.values()
    assert execution.status is ExecutionStatus.RUNNING  # the client is gone, the run is not
    gate.set()
    execution = await the_run_once_stopped(world.app.store)
    assert execution.status is ExecutionStatus.SUCCESS
    assert execution.output == "echo: still here"
