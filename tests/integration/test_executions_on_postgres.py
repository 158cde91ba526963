"""Running agents now through HTTP over PostgreSQL: routing, recording and failures."""

import hashlib
import uuid
from collections.abc import AsyncIterator
from datetime import datetime
from typing import Any

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from application.gateway_errors import (
    BudgetExceeded,
    GatewayError,
    GatewayTimeout,
    GatewayUnavailable,
    RateLimited,
)
from domain.execution import MAX_INPUT_LENGTH
from tests.support.llm_helpers import add_agent, add_provider, admin_query, new_tenant
from tests.support.tenant_env import TenantEnv, tenant_env

pytestmark = pytest.mark.postgres
EXECUTED = {"execution_id", "status", "output", "model", "usage", "latency_ms"}
EXECUTION = {"id", "agent_id", "tenant_id", "status", "input", "output", "error", "usage"} | {
    "model", "latency_ms", "created_at", "started_at", "finished_at",
}  # fmt: skip


class Env(TenantEnv):
    async def run(self, agent_id: object, text: str = "hello there") -> httpx.Response:
        body = {"agent_id": str(agent_id), "input": text}
        return await self.client.post("/api/agents/execute", json=body, headers=self.headers)

    async def listed(self, **query: str) -> list[dict[str, Any]]:
        response = await self.client.get("/api/executions", params=query, headers=self.headers)
        assert response.status_code == 200, response.text
        found: list[dict[str, Any]] = response.json()
        return found

    def recorded(self, agent_id: str) -> list[Any]:
        sql = "SELECT * FROM executions WHERE agent_id = :a ORDER BY created_at"
        return admin_query(self.db, sql, a=uuid.UUID(agent_id))


@pytest.fixture
async def env(
    sql_engine: AsyncEngine, migrated_db: str, operator: dict[str, str]
) -> AsyncIterator[Env]:
    async with tenant_env(Env, sql_engine, migrated_db, operator) as made:
        yield made


async def test_a_plain_agent_runs_on_the_platform_key(env: Env) -> None:
    prompt = "You are terse."
    agent = await add_agent(
        env.client,
        env.headers,
        system_prompt=prompt,
        model="gpt-4o",
        temperature=0.25,
        max_tokens=5,
    )
    response = await env.run(agent["id"])
    assert response.status_code == 200, response.text
    body = response.json()
    assert set(body) >= EXECUTED and (body["status"], body["output"]) == (
        "success",
        "echo: hello there",
    )
    assert body["model"] == "gpt-4o" and isinstance(body["latency_ms"], int)
    assert body["usage"] == {"prompt_tokens": 5, "completion_tokens": 3, "total_tokens": 8}
    [request] = env.gateway.calls
    assert (request.model, request.api_key, request.temperature, request.max_tokens) == (
        "gpt-4o", None, 0.25, 5,
    )  # fmt: skip
    assert [(m.role, m.content) for m in request.messages] == [
        ("system", prompt), ("user", "hello there"),
    ]  # fmt: skip
    got = await env.client.get(f"/api/executions/{body['execution_id']}", headers=env.headers)
    shown = got.json()
    assert set(shown) >= EXECUTION
    assert (shown["id"], shown["agent_id"], shown["tenant_id"]) == (
        body["execution_id"], agent["id"], env.tenant_id,
    )  # fmt: skip
    assert (shown["status"], shown["input"], shown["output"], shown["error"]) == (
        "success", "hello there", "echo: hello there", None,
    )  # fmt: skip
    assert (shown["usage"], shown["model"], shown["latency_ms"]) == (
        body["usage"], "gpt-4o", body["latency_ms"],
    )  # fmt: skip
    started, finished = (datetime.fromisoformat(shown[k]) for k in ("started_at", "finished_at"))
    assert datetime.fromisoformat(shown["created_at"]) <= started <= finished
    [row] = env.recorded(agent["id"])
    assert (row.config_model, row.config_temperature, row.config_max_tokens) == ("gpt-4o", 0.25, 5)
    assert row.config_system_prompt_sha256 == hashlib.sha256(prompt.encode()).hexdigest()
    assert (row.config_use_byok, row.config_provider_id) == (False, None)


async def test_a_byok_agent_runs_through_its_virtual_key(env: Env) -> None:
    provider = await add_provider(env.client, env.tenant_id, env.headers, max_budget=0.000_01)
    deployment = f"agentkeel-{env.tenant_id}-{provider['id']}"
    implicit = await add_agent(env.client, env.headers, use_byok=True)
    explicit = await add_agent(env.client, env.headers, use_byok=True, provider_id=provider["id"])
    for agent in (implicit, explicit):
        response = await env.run(agent["id"])
        assert response.status_code == 200, response.text
        assert response.json()["model"] == deployment
        [row] = env.recorded(agent["id"])
        assert (row.config_use_byok, str(row.config_provider_id)) == (True, provider["id"])
    assert [(c.model, c.api_key) for c in env.gateway.calls] == [
        (deployment, provider["virtual_key"])
    ] * 2
    # Two runs spent the key's budget: the gateway refuses, and the run is recorded.
    response = await env.run(explicit["id"])
    assert response.status_code == 429 and response.headers["Retry-After"].isdigit()
    assert [r.status for r in env.recorded(explicit["id"])] == ["success", "failed"]


async def test_agents_that_may_not_run(env: Env) -> None:
    suspended = await add_agent(env.client, env.headers, status="suspended")
    draft = await add_agent(env.client, env.headers, status="draft")
    byok = await add_agent(env.client, env.headers, use_byok=True)
    assert (await env.run(suspended["id"])).status_code == 409
    assert (await env.run(draft["id"])).status_code == 409
    refused = await env.run(byok["id"])
    assert refused.status_code == 400 and isinstance(refused.json()["detail"], str)
    for agent in (suspended, draft, byok):
        assert env.recorded(agent["id"]) == []
    assert env.gateway.calls == []


@pytest.mark.parametrize(
    ("error", "status", "recorded_as"),
    [
        (GatewayUnavailable("the gateway answered 503"), 502, "failed"),
        (GatewayError("the gateway failed"), 502, "failed"),
        (GatewayTimeout("no answer in 60 s"), 504, "timed_out"),
        (BudgetExceeded("the budget is spent"), 429, "failed"),
        (RateLimited(retry_after=7), 429, "failed"),
    ],
)
async def test_gateway_failures_are_recorded(
    env: Env, error: Exception, status: int, recorded_as: str
) -> None:
    agent = await add_agent(env.client, env.headers)
    env.gateway.fail_next(error, "chat")
    response = await env.run(agent["id"])
    assert response.status_code == status, response.text
    assert "Traceback" not in response.text and isinstance(response.json()["detail"], str)
    if status == 429:
        assert response.headers["Retry-After"] == ("7" if isinstance(error, RateLimited) else "60")
    [shown] = await env.listed(agent_id=agent["id"])
    assert (shown["status"], shown["error"], shown["output"]) == (recorded_as, str(error), None)
    assert shown["finished_at"] is not None


async def test_invalid_run_requests(env: Env) -> None:
    agent = await add_agent(env.client, env.headers)
    huge = await env.run(agent["id"], "x" * (MAX_INPUT_LENGTH + 1))
    assert huge.status_code == 422 and huge.json()["detail"][0]["loc"][-1] == "input"
    empty = await env.run(agent["id"], "")
    assert empty.status_code == 422
    not_uuid = await env.run("not-a-uuid")
    assert not_uuid.status_code == 422 and not_uuid.json()["detail"][0]["loc"][-1] == "agent_id"
    assert (await env.run(uuid.uuid4())).status_code == 404
    assert env.recorded(agent["id"]) == [] and env.gateway.calls == []
    _, other = await new_tenant(env.client, env.operator)
    theirs = await add_agent(env.client, other)
    assert (await env.run(theirs["id"])).json() == {"detail": "Agent not found"}
    assert env.recorded(theirs["id"]) == []


async def test_listing_filters_by_agent_and_status(env: Env) -> None:
    first, second = (
        await add_agent(env.client, env.headers),
        await add_agent(env.client, env.headers),
    )
    ids = []
    for agent in (first, second, first):
        ids.append((await env.run(agent["id"])).json()["execution_id"])
    env.gateway.fail_next(GatewayUnavailable("down"), "chat")
    assert (await env.run(first["id"])).status_code == 502
    assert [e["id"] for e in await env.listed(agent_id=first["id"], status="success")] == [
        ids[2], ids[0],
    ]  # fmt: skip
    assert [e["id"] for e in await env.listed(agent_id=second["id"])] == [ids[1]]
    failed = await env.listed(status="failed")
    assert [e["agent_id"] for e in failed] == [first["id"]]
    everything = await env.listed()
    assert len(everything) == 4 and everything[0]["status"] == "failed"  # newest first
    assert [e["id"] for e in await env.listed(limit="2", offset="1")] == [
        e["id"] for e in everything[1:3]
    ]
    for query in ("status=bogus", "agent_id=nope", "limit=201", "offset=-1"):
        bad = await env.client.get(f"/api/executions?{query}", headers=env.headers)
        assert bad.status_code == 422, query
    _, other = await new_tenant(env.client, env.operator)
    elsewhere = await env.client.get("/api/executions", headers=other)
    assert elsewhere.json() == []
    hidden = await env.client.get(f"/api/executions/{ids[0]}", headers=other)
    assert hidden.status_code == 404


async def test_an_unexpected_gateway_error_does_not_leave_the_run_running(env: Env) -> None:
    agent = await add_agent(env.client, env.headers)
    env.gateway.fail_next(RuntimeError("adapter bug"), "chat")
    response = await env.run(agent["id"])
    assert response.status_code == 500 and "adapter bug" not in response.text
    [shown] = await env.listed(agent_id=agent["id"])
    assert shown["status"] == "failed" and shown["finished_at"] is not None
