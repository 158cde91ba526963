"""A streamed run over PostgreSQL: `running` is committed before the first byte, no pooled
connection is checked out while the answer streams, and the end is stored after it."""

import asyncio
import uuid
from collections.abc import AsyncIterator

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from tests.support.llm_helpers import add_agent
from tests.support.sse import all_events
from tests.support.tenant_env import TenantEnv, tenant_env

pytestmark = pytest.mark.postgres


@pytest.fixture
async def env(
    sql_engine: AsyncEngine, migrated_db: str, operator: dict[str, str]
) -> AsyncIterator[TenantEnv]:
    async with tenant_env(TenantEnv, sql_engine, migrated_db, operator) as made:
        yield made


async def test_no_connection_is_held_while_the_answer_streams(
    env: TenantEnv, sql_engine: AsyncEngine
) -> None:
    agent = await add_agent(env.client, env.headers)
    gate = asyncio.Event()
    env.gateway.stream_gate = gate  # the stream waits after its first delta
    body = {"agent_id": agent["id"], "input": "stream me please", "stream": True}
    call = asyncio.create_task(
        env.client.post("/api/agents/execute", json=body, headers=env.headers)
    )
    try:
        for _ in range(500):
            if env.gateway.calls:
                break
            await asyncio.sleep(0.01)
        await asyncio.sleep(0.05)  # the first delta is out; the stream waits on the gate
        assert sql_engine.pool.checkedout() == 0  # type: ignore[attr-defined]
        rows = env.rows(
            "SELECT status, output FROM executions WHERE agent_id = :a", a=uuid.UUID(agent["id"])
        )
        assert [(r.status, r.output) for r in rows] == [("running", None)]
    finally:
        gate.set()
    response = await call
    events = await all_events(response)
    done = events[-1].data
    assert done["status"] == "success"
    [row] = env.rows("SELECT * FROM executions WHERE id = :i", i=uuid.UUID(done["execution_id"]))
    assert (row.status, row.output) == ("success", "echo: stream me please")
    assert row.prompt_tokens == done["usage"]["prompt_tokens"]
    assert row.finished_at is not None
