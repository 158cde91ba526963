"""GET /api/executions/{id}/events over in-memory adapters: a queued run followed from
before a worker takes it to its end, replay after Last-Event-ID, a late client, a run
that ends without events (cancelled while queued), and access control."""

import asyncio
import dataclasses
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest

from application.use_cases.run_execution import RunQueuedExecution
from tests.support.http_app import InMemoryApp, in_memory_app
from tests.support.sse import Event, all_events


@dataclass
class World:
    app: InMemoryApp
    client: httpx.AsyncClient
    headers: dict[str, str]
    agent: dict[str, Any]
    tenant_id: str

    async def submit(self, text: str = "one two three") -> str:
        url = f"/api/agents/{self.agent['id']}/executions"
        response = await self.client.post(url, json={"input": text}, headers=self.headers)
        assert response.status_code == 202
        execution_id: str = response.json()["id"]
        return execution_id

    async def events(self, execution_id: str, last: str | None = None) -> httpx.Response:
        headers = {**self.headers, **({"Last-Event-ID": last} if last else {})}
        return await self.client.get(f"/api/executions/{execution_id}/events", headers=headers)

    async def work(self, execution_id: str) -> None:
        import uuid

        run = RunQueuedExecution(self.app.services, "worker-1")
        await run(uuid.UUID(execution_id), uuid.UUID(self.tenant_id))


@pytest.fixture
async def world() -> AsyncIterator[World]:
    app = in_memory_app()
    deps = dataclasses.replace(app.app.state.deps, event_heartbeat_s=0.05)
    app.app.state.deps = deps
    transport = httpx.ASGITransport(app=app.app)  # type: ignore[arg-type]
    async with httpx.AsyncClient(transport=transport, base_url="http://agentkeel") as client:
        tenant, headers = await app.acme(client)
        agent = {"name": "triage", "system_prompt": "Be brief."}
        made = (await client.post("/api/agents", json=agent, headers=headers)).json()
        yield World(app, client, headers, made, tenant["id"])


def kinds(events: list[Event]) -> list[str]:
    return [e.event for e in events]


async def test_a_queued_run_is_followed_from_queued_to_done(world: World) -> None:
    execution_id = await world.submit()
    follower = asyncio.create_task(world.events(execution_id))
    await asyncio.sleep(0.1)  # connected while queued: nothing has run yet
    await world.work(execution_id)
    response = await asyncio.wait_for(follower, timeout=5)
    assert response.status_code == 200
    assert response.headers["content-type"] == "text/event-stream"
    events = [e for e in await all_events(response)]
    assert kinds(events)[:2] == ["status", "status"]
    assert [e.data["status"] for e in events[:2]] == ["queued", "running"]
    assert events[0].id == "" and events[1].id  # the snapshot is not replayable
    deltas = [e.data["content"] for e in events if e.event == "delta"]
    assert "".join(deltas) == "echo: one two three" and len(deltas) == 4
    done = events[-1]
    assert done.event == "done" and done.data["status"] == "success"
    assert done.data["output"] == "echo: one two three"
    assert done.data["usage"]["completion_tokens"] == 4
    assert all(e.id for e in events[1:])


async def test_reconnecting_with_last_event_id_resumes_after_it(world: World) -> None:
    execution_id = await world.submit()
    await world.work(execution_id)
    first = await all_events(await world.events(execution_id))
    # A late client: the current state from the database, then the end.
    assert kinds(first) == ["status", "done"]
    assert first[0].data["status"] == "success"
    assert first[1].data["output"] == "echo: one two three"
    replay = []
    async for item in world.app.events.follow(_uuid(execution_id), None, 0):
        if item is None:  # all replayed
            break
        replay.append(item)
    second_delta = [e for e in replay if e.kind == "delta"][1]
    resumed = await all_events(await world.events(execution_id, last=second_delta.id))
    assert kinds(resumed) == ["delta", "delta", "done"]
    assert [e.data["content"] for e in resumed[:2]] == ["two ", "three"]


async def test_a_run_cancelled_while_queued_ends_the_stream(world: World) -> None:
    execution_id = await world.submit()
    follower = asyncio.create_task(world.events(execution_id))
    await asyncio.sleep(0.1)
    url = f"/api/executions/{execution_id}/cancel"
    assert (await world.client.post(url, headers=world.headers)).status_code == 200
    events = await all_events(await asyncio.wait_for(follower, timeout=5))
    assert kinds(events) == ["status", "status", "done"]
    assert events[-1].data["status"] == "cancelled"


async def test_another_tenants_execution_is_404(world: World) -> None:
    execution_id = await world.submit()
    body = {"name": "other", "admin_email": "ops@other.example"}
    other = (await world.client.post("/api/tenants", json=body, headers=world.app.operator)).json()
    response = await world.client.get(
        f"/api/executions/{execution_id}/events",
        headers={"Authorization": f"Bearer {other['api_key']}"},
    )
    assert response.status_code == 404
    assert response.json() == {"detail": "Execution not found"}


def _uuid(value: str) -> Any:
    import uuid

    return uuid.UUID(value)
