"""A request's unit of work and its psycopg cursors die by reference counting, not by the
cyclic garbage collector: with 100 streams open, each full collection had to walk their
objects (30-60 ms a pass, every second, in the streaming bench), so a cycle per request
cost throughput and the p99. Counted with `gc.DEBUG_SAVEALL`: whatever the collector
finds unreachable is kept in `gc.garbage`, where these types must not appear."""

import gc
from collections import Counter
from collections.abc import Callable, Iterator

import pytest
from psycopg import AsyncCursor
from sqlalchemy.ext.asyncio import AsyncEngine

from adapters.sqlalchemy.unit_of_work import SqlUnitOfWork
from tests.support.sql_app import bearer, issue_operator_key, sql_client

pytestmark = pytest.mark.postgres

_WATCHED = (SqlUnitOfWork, AsyncCursor)


@pytest.fixture
def collect_garbage() -> Iterator[Callable[[], list[object]]]:
    """A call that returns what the cyclic collector finds unreachable since the test
    began; until then nothing is collected, so every cycle stays to be counted."""
    gc.collect()
    was_enabled = gc.isenabled()
    gc.disable()
    gc.set_debug(gc.DEBUG_SAVEALL)

    def collect() -> list[object]:
        gc.collect()
        return list(gc.garbage)

    try:
        yield collect
    finally:
        gc.set_debug(0)
        gc.garbage.clear()
        if was_enabled:
            gc.enable()


def _watched(garbage: list[object]) -> Counter[str]:
    return Counter(type(o).__name__ for o in garbage if isinstance(o, _WATCHED))


async def test_requests_leave_no_unit_of_work_or_cursor_to_the_collector(
    sql_engine: AsyncEngine, collect_garbage: Callable[[], list[object]]
) -> None:
    operator = bearer(await issue_operator_key(sql_engine))
    async with sql_client(sql_engine) as client:
        made = await client.post(
            "/api/tenants", json={"name": "cycles", "admin_email": "c@x.io"}, headers=operator
        )
        tenant = bearer(made.json()["api_key"])
        agent = await client.post(
            "/api/agents", json={"name": "a", "system_prompt": "Be brief."}, headers=tenant
        )
        agent_id = agent.json()["id"]
        for _ in range(5):
            assert (await client.get(f"/api/agents/{agent_id}", headers=tenant)).is_success
        ran = await client.post(
            "/api/agents/execute", json={"agent_id": agent_id, "input": "hi"}, headers=tenant
        )
        assert ran.json()["status"] == "success"
        streamed = await client.post(
            "/api/agents/execute",
            json={"agent_id": agent_id, "input": "hi", "stream": True},
            headers=tenant,
        )
        assert "event: done" in streamed.text
    assert _watched(collect_garbage()) == Counter()
