"""An agent by name (`model: "agent:<name>"`) on PostgreSQL: row-level security hides
another tenant's agent even when the lookup asks for that tenant, and the lookup is one
read of the unique index on (tenant_id, name)."""

import uuid

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from adapters.sqlalchemy.repositories import AGENT_BY_NAME, AGENT_NAMED_IN_CONTEXT
from adapters.sqlalchemy.unit_of_work import SqlUnitOfWork
from tests.support.factories import an_agent
from tests.support.llm_helpers import add_agent
from tests.support.llm_helpers import new_tenant as new_tenant_over_http
from tests.support.scopes import OPERATOR, as_tenant, new_tenant, scoped
from tests.support.sql_app import sql_client

pytestmark = pytest.mark.postgres

_LOOKUP = AGENT_BY_NAME.query.decode()  # the SQL the repository sends, as it sends it
_IN_CONTEXT = AGENT_NAMED_IN_CONTEXT.query.decode()


async def _two_tenants_with_a_shared_name(engine: AsyncEngine) -> tuple[uuid.UUID, uuid.UUID]:
    def factory() -> SqlUnitOfWork:
        return SqlUnitOfWork(engine)

    a, b = await new_tenant(factory), await new_tenant(factory)
    async with scoped(factory, OPERATOR) as uow:
        await uow.agents.add(an_agent(a, name="shared"))
        await uow.agents.add(an_agent(b, name="shared"))
        await uow.commit()
    return a, b


async def test_rls_hides_another_tenants_agent_by_name(
    sql_engine: AsyncEngine, tx_engine: AsyncEngine
) -> None:
    a, b = await _two_tenants_with_a_shared_name(sql_engine)
    # Below the application: the lookup's own SQL, under a's context, asking for b's row.
    async with tx_engine.begin() as conn:
        await conn.exec_driver_sql("SELECT set_tenant_context(%(t)s)", {"t": a})
        theirs = await conn.exec_driver_sql(_LOOKUP, {"tenant_id": b, "name": "shared"})
        mine = await conn.exec_driver_sql(_LOOKUP, {"tenant_id": a, "name": "shared"})
        assert theirs.all() == []
        assert [row.tenant_id for row in mine] == [a]
    async with tx_engine.begin() as conn:  # no context: no row at all
        unscoped = await conn.exec_driver_sql(_LOOKUP, {"tenant_id": b, "name": "shared"})
        assert unscoped.all() == []
    # The repository, over the service's own batches (prepared, pipelined).
    async with SqlUnitOfWork(sql_engine) as uow:
        await uow.scope_to(as_tenant(a))
        assert await uow.agents.by_name(b, "shared") is None
        found = await uow.agents.by_name(a, "shared")
        assert found is not None and found.tenant_id == a


async def test_the_lookup_reads_the_unique_index(
    sql_engine: AsyncEngine, tx_engine: AsyncEngine
) -> None:
    a, _ = await _two_tenants_with_a_shared_name(sql_engine)
    async with tx_engine.begin() as conn:
        await conn.exec_driver_sql("SELECT set_tenant_context(%(t)s)", {"t": a})
        # A small test table may rightly be scanned; what matters is that the index
        # answering this lookup exists and the planner can use it.
        await conn.exec_driver_sql("SET LOCAL enable_seqscan = off")
        plans = []
        for sql, params in (
            (_LOOKUP, {"tenant_id": a, "name": "shared"}),
            (_IN_CONTEXT, {"name": "shared"}),  # the prefetch with the key lookup
        ):
            explained = await conn.exec_driver_sql("EXPLAIN " + sql, params)
            plans.append("\n".join(row[0] for row in explained))
        found = await conn.exec_driver_sql(_IN_CONTEXT, {"name": "shared"})
        assert [row.tenant_id for row in found] == [a]  # the context's tenant only
    for plan in plans:
        assert "uq_agents_tenant_id_name" in plan, plan
        assert "Seq Scan" not in plan, plan


async def test_the_openai_surface_resolves_names_and_lists_active_agents(
    sql_engine: AsyncEngine, operator: dict[str, str]
) -> None:
    async with sql_client(sql_engine) as client:
        _, mine = await new_tenant_over_http(client, operator)
        _, theirs = await new_tenant_over_http(client, operator)
        triage = await add_agent(client, mine, name="triage")
        draft = await add_agent(client, mine, name="drafty", status="draft")
        await add_agent(client, theirs, name="theirs-only")

        async def chat(model: str, headers: dict[str, str]) -> tuple[int, str | None]:
            body = {"model": model, "messages": [{"role": "user", "content": "hi"}]}
            response = await client.post("/v1/chat/completions", json=body, headers=headers)
            code = response.json().get("error", {}).get("code")
            return response.status_code, code

        assert (await chat("agent:triage", mine))[0] == 200
        for model in ("agent:theirs-only", "agent:nobody", "agent:", "agent:a\x00b"):
            assert await chat(model, mine) == (404, "model_not_found"), model
        # The draft is found by name (409, not 404): whether it may run is the run's call.
        assert (await chat("agent:drafty", mine))[0] == 409
        listed = (await client.get("/v1/models", headers=mine)).json()["data"]
    assert [m["id"] for m in listed] == [triage["id"]]
    assert draft["id"] not in {m["id"] for m in listed}
