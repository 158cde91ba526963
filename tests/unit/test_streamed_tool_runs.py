"""An agent's MCP tools in streamed sync runs and on the OpenAI-compatible surface, over
in-memory adapters, the fake gateway scripted to ask for tools, and an in-process MCP
connector: the tool loop runs, its final answer comes as one delta, the tool calls are
recorded (also when the run fails or is cancelled midway)."""

import asyncio
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import httpx
import openai
import pytest

from adapters.in_memory.mcp_servers import InMemoryMcpServerRepository
from application.ports.llm_types import ChatMessage
from application.use_cases.streamed_runs import start_run, stream_run
from domain.execution import ExecutionStatus
from domain.principal import Principal
from tests.support.hang_up import post_then_hang_up, the_run_once_stopped
from tests.support.http_app import InMemoryApp, in_memory_app
from tests.support.live_server import live_server
from tests.support.mcp.fake_connector import TOOLS, FakeMcpConnector, fake_mcp_services
from tests.support.mcp.world import stdio_server_body
from tests.support.sse import all_events

MAX_STEPS = 3


@dataclass
class World:
    app: InMemoryApp
    mcp: FakeMcpConnector
    http: httpx.AsyncClient
    client: openai.AsyncOpenAI
    headers: dict[str, str]
    tenant_id: str
    agent_id: str

    async def execute(self, text: str) -> httpx.Response:
        body = {"agent_id": self.agent_id, "input": text, "stream": True}
        return await self.http.post("/api/agents/execute", json=body, headers=self.headers)

    async def execution(self, execution_id: str) -> dict[str, Any]:
        response = await self.http.get(f"/api/executions/{execution_id}", headers=self.headers)
        assert response.status_code == 200
        found: dict[str, Any] = response.json()
        return found

    def ask_for_tools_forever(self) -> None:
        for _ in range(MAX_STEPS):
            self.app.gateway.call_tools_next(("add", {"a": 1, "b": 1}))


@pytest.fixture
async def world() -> AsyncIterator[World]:
    services, connector = fake_mcp_services(max_steps=MAX_STEPS)
    app = in_memory_app(services)
    async with live_server(app.app) as url, httpx.AsyncClient(base_url=url) as http:
        tenant, headers = await app.acme(http)
        server = await http.post("/api/mcp-servers", json=stdio_server_body(), headers=headers)
        assert server.status_code == 201, server.text
        check = await http.post(f"/api/mcp-servers/{server.json()['id']}/check", headers=headers)
        assert check.json()["status"] == "active", check.text
        agent = {
            "name": "triage",
            "system_prompt": "Use tools.",
            "mcp_server_ids": [check.json()["id"]],
        }
        made = await http.post("/api/agents", json=agent, headers=headers)
        assert made.status_code == 201, made.text
        client = openai.AsyncOpenAI(api_key=tenant["api_key"], base_url=f"{url}/v1", max_retries=0)
        try:
            yield World(app, connector, http, client, headers, tenant["id"], made.json()["id"])
        finally:
            await client.close()


def _tools_offered(world: World) -> list[set[str]]:
    return [{t.name for t in call.tools} for call in world.app.gateway.calls]


async def test_a_streamed_execute_calls_the_tools_then_sends_the_answer_as_one_delta(
    world: World,
) -> None:
    world.app.gateway.call_tools_next(("add", {"a": 40, "b": 2}))
    response = await world.execute("what is 40 + 2")
    assert response.status_code == 200
    assert response.headers["content-type"] == "text/event-stream"
    events = await all_events(response)
    assert [e.event for e in events] == ["delta", "done"]
    assert events[0].data == {"content": "echo: what is 40 + 2"}
    done = events[-1].data
    assert (done["status"], done["output"]) == ("success", "echo: what is 40 + 2")
    assert done["usage"]["total_tokens"] > 2  # both model calls: the tool step's 2 and more
    assert world.mcp.called == [("add", {"a": 40, "b": 2})]
    assert _tools_offered(world) == [{t.name for t in TOOLS}] * 2
    assert world.app.gateway.calls[-1].messages[-1] == ChatMessage(
        "tool", "42", tool_call_id="call_0_0"
    )
    stored = await world.execution(done["execution_id"])
    assert (stored["status"], stored["output"]) == ("success", "echo: what is 40 + 2")
    [call] = stored["tool_calls"]
    assert (call["step"], call["tool"], call["arguments"]) == (1, "add", {"a": 40, "b": 2})
    assert (call["result_size"], call["error"]) == (2, None)
    assert call["server_id"] is not None
    assert world.mcp.opened == world.mcp.closed == 2  # the check, then the run


async def test_a_streamed_execute_past_the_step_bound_is_502_and_keeps_its_tool_calls(
    world: World,
) -> None:
    world.ask_for_tools_forever()
    response = await world.execute("loop")
    # No delta came before the failure: the ordinary error answer, as for a refusal.
    assert response.status_code == 502
    assert response.json() == {
        "detail": "The model kept asking for tools past the run's step limit"
    }
    [execution] = (await world.http.get("/api/executions", headers=world.headers)).json()
    assert execution["status"] == "failed"
    assert execution["error"] == f"the model kept asking for tools after {MAX_STEPS} steps"
    assert [c["step"] for c in execution["tool_calls"]] == list(range(1, MAX_STEPS + 1))


async def test_a_completion_runs_the_tools(world: World) -> None:
    world.app.gateway.call_tools_next(("ticket_status", {"ticket_id": "T-42"}))
    completion = await world.client.chat.completions.create(
        model=world.agent_id, messages=[{"role": "user", "content": "Status of T-42?"}]
    )
    assert completion.choices[0].message.content == "echo: Status of T-42?"
    assert world.app.gateway.calls[-1].messages[-1].content == "ticket T-42 is OPEN"
    stored = await world.execution(completion.id.removeprefix("chatcmpl-"))
    assert stored["status"] == "success"
    assert [(c["tool"], c["arguments"]) for c in stored["tool_calls"]] == [
        ("ticket_status", {"ticket_id": "T-42"})
    ]
    assert completion.usage is not None
    assert completion.usage.total_tokens == stored["usage"]["total_tokens"] > 2


async def test_a_streamed_completion_runs_the_tools_and_sends_one_content_chunk(
    world: World,
) -> None:
    world.app.gateway.call_tools_next(("add", {"a": 2, "b": 3}), ("add", {"a": 1, "b": 1}))
    stream = await world.client.chat.completions.create(
        model="agent:triage",
        messages=[{"role": "user", "content": "2+3 and 1+1"}],
        stream=True,
        stream_options={"include_usage": True},
    )
    chunks = [chunk async for chunk in stream]
    assert chunks[0].choices[0].delta.role == "assistant"
    pieces = [
        c.choices[0].delta.content for c in chunks if c.choices and c.choices[0].delta.content
    ]
    assert pieces == ["echo: 2+3 and 1+1"]
    assert [c.choices[0].finish_reason for c in chunks if c.choices][-1] == "stop"
    assert chunks[-1].usage is not None and chunks[-1].usage.total_tokens > 2
    stored = await world.execution(chunks[0].id.removeprefix("chatcmpl-"))
    assert [m.content for m in world.app.gateway.calls[-1].messages if m.role == "tool"] == [
        "5",
        "2",
    ]
    assert [(c["step"], c["tool"]) for c in stored["tool_calls"]] == [(1, "add"), (1, "add")]
    assert stored["output"] == "echo: 2+3 and 1+1"


@pytest.mark.parametrize("streamed", [False, True])
async def test_a_completion_past_the_step_bound_is_an_openai_error(
    world: World, streamed: bool
) -> None:
    world.ask_for_tools_forever()
    with pytest.raises(openai.InternalServerError) as raised:
        await world.client.chat.completions.create(
            model=world.agent_id, messages=[{"role": "user", "content": "loop"}], stream=streamed
        )
    assert raised.value.status_code == 502
    body = raised.value.body
    assert isinstance(body, dict) and set(body) == {"message", "type", "param", "code"}
    [stored] = (await world.http.get("/api/executions", headers=world.headers)).json()
    assert stored["status"] == "failed" and "after 3 steps" in stored["error"]
    assert len(stored["tool_calls"]) == MAX_STEPS


async def test_a_caller_going_away_mid_loop_is_recorded_cancelled_with_the_calls_so_far(
    world: World,
) -> None:
    world.app.gateway.call_tools_next(("add", {"a": 1, "b": 2}))
    world.app.gateway.call_tools_next(("slow", {}))
    services = world.app.services
    principal = Principal(key_id=uuid.uuid4(), tenant_id=uuid.UUID(world.tenant_id))
    async with services.uow_factory() as uow:
        await uow.scope_to(principal)
        conversation = (ChatMessage("user", "one, then a slow one"),)
        run = await start_run(uow, services, principal, uuid.UUID(world.agent_id), conversation)
    assert [t.spec.name for t in run.toolset.tools] == [t.name for t in TOOLS]
    items = stream_run(services, run)
    first = asyncio.ensure_future(anext(items))
    await asyncio.wait_for(world.mcp.slow_started.wait(), timeout=5)
    first.cancel()
    with pytest.raises(asyncio.CancelledError):
        await first
    stored = world.app.store.executions[run.execution.id]
    for _ in range(100):  # the record is shielded: it may finish just after the cancel
        if stored.status is not ExecutionStatus.RUNNING:
            break
        await asyncio.sleep(0.01)
        stored = world.app.store.executions[run.execution.id]
    assert stored.status is ExecutionStatus.CANCELLED and stored.finished_at is not None
    assert [c.tool for c in stored.tool_calls] == ["add"]  # `slow` never ended
    assert world.mcp.opened == world.mcp.closed == 2  # the check, then the run


async def test_a_client_hanging_up_during_the_loop_stops_it_recorded_cancelled(
    world: World,
) -> None:
    """Over a real socket: the response has not started (the loop runs first), so only
    the hang-up watch before the first delta can stop the run."""
    world.app.gateway.call_tools_next(("add", {"a": 1, "b": 2}))
    world.app.gateway.call_tools_next(("slow", {}))
    body = {"agent_id": world.agent_id, "input": "one, then a slow one", "stream": True}
    token = world.headers["Authorization"].removeprefix("Bearer ")
    started = world.mcp.slow_started.is_set
    await post_then_hang_up(str(world.http.base_url), "/api/agents/execute", token, body, started)
    stored = await the_run_once_stopped(world.app.store)
    assert stored.status is ExecutionStatus.CANCELLED and stored.finished_at is not None
    assert [c.tool for c in stored.tool_calls] == ["add"]  # `slow` never ended
    assert world.mcp.opened == world.mcp.closed == 2  # the check, then the run


async def test_an_agent_without_servers_streams_as_before_and_reads_no_servers(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    async def no_read(*_: object) -> None:
        raise AssertionError("an agent without servers reads none")

    monkeypatch.setattr(InMemoryMcpServerRepository, "list_by_ids", no_read)
    agent = {"name": "plain", "system_prompt": "Be brief."}
    plain = await world.http.post("/api/agents", json=agent, headers=world.headers)
    assert plain.status_code == 201, plain.text
    body = {"agent_id": plain.json()["id"], "input": "a b", "stream": True}
    response = await world.http.post("/api/agents/execute", json=body, headers=world.headers)
    events = await all_events(response)
    assert [e.data["content"] for e in events if e.event == "delta"] == ["echo: ", "a ", "b"]
    assert events[-1].event == "done" and world.app.gateway.calls[-1].tools == ()
