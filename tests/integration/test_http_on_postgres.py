"""The HTTP API over the real PostgreSQL adapters: persistence, isolation, atomicity."""

import asyncio
import random
import uuid

import pytest
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine

from adapters.sqlalchemy.engine import create_runtime_engine
from adapters.sqlalchemy.unit_of_work import SqlUnitOfWork
from adapters.system import SystemClock
from application.use_cases.tenants import CreateTenant
from domain.principal import CONSOLE_OPERATOR
from tests.support.factories import unique
from tests.support.sql_app import bearer, issue_operator_key, sql_client

pytestmark = pytest.mark.postgres


async def test_crud_is_persisted_and_read_back(
    tx_engine: AsyncEngine, sql_engine: AsyncEngine
) -> None:
    operator = bearer(await issue_operator_key(sql_engine))
    async with sql_client(sql_engine) as client:
        created = await client.post(
            "/api/tenants",
            json={"name": unique("acme"), "admin_email": "ops@acme.io"},
            headers=operator,
        )
        assert created.status_code == 201
        tenant = bearer(created.json()["api_key"])
        agent = await client.post(
            "/api/agents",
            json={
                "name": "helper",
                "system_prompt": "Be brief.",
                "temperature": 0.2,
                "max_tokens": 64,
            },
            headers=tenant,
        )
        assert agent.status_code == 201
        agent_id = agent.json()["id"]
        patched = await client.patch(
            f"/api/agents/{agent_id}", json={"status": "suspended"}, headers=tenant
        )
        assert patched.json()["status"] == "suspended"
    # Read back through a different connection, outside the HTTP layer.
    async with tx_engine.begin() as conn:
        await conn.execute(text("SELECT set_operator_context()"))
        row = (
            await conn.execute(
                text("SELECT name, temperature, max_tokens, status FROM agents WHERE id = :id"),
                {"id": uuid.UUID(agent_id)},
            )
        ).one()
    assert tuple(row) == ("helper", 0.2, 64, "suspended")


async def test_agent_for_an_unknown_tenant_is_a_404_not_a_500(sql_engine: AsyncEngine) -> None:
    operator = bearer(await issue_operator_key(sql_engine))
    async with sql_client(sql_engine) as client:
        response = await client.post(
            "/api/agents",
            json={"name": "x", "system_prompt": "p", "tenant_id": str(uuid.uuid4())},
            headers=operator,
        )
    assert response.status_code == 404
    assert response.json() == {"detail": "Tenant not found"}


async def test_a_failed_request_leaves_nothing_half_written(
    tx_engine: AsyncEngine, sql_engine: AsyncEngine
) -> None:
    """Tenant and first key are one transaction: if the key cannot be stored, no tenant."""

    class RepeatingTokens:  # the second tenant's key collides with the first one's
        def new_token(self, prefix: str) -> str:
            return prefix + "x" * 43

    names = [unique("atomic"), unique("atomic")]
    collisions: list[str] = []
    for name in names:
        try:
            async with SqlUnitOfWork(sql_engine) as uow:
                await uow.scope_to(CONSOLE_OPERATOR)
                await CreateTenant(uow, SystemClock(), RepeatingTokens())(
                    CONSOLE_OPERATOR, name, "a@b.io"
                )
        except IntegrityError as exc:  # the key-hash collision: an unexpected storage error
            collisions.append(str(exc))
    async with tx_engine.begin() as conn:
        await conn.execute(text("SELECT set_operator_context()"))
        stored = (
            (
                await conn.execute(
                    text("SELECT name FROM tenants WHERE name = ANY(:names)"), {"names": names}
                )
            )
            .scalars()
            .all()
        )
    assert len(collisions) == 1
    assert "uq_api_key_credentials_key_hash" in collisions[0]
    assert stored == [names[0]]


async def test_parallel_requests_from_many_tenants_never_mix(migrated_db: str) -> None:
    """240 requests from 20 tenants at once through a pool of 5 connections."""
    engine = create_runtime_engine(migrated_db, pool_size=5)
    try:
        operator = bearer(await issue_operator_key(engine))
        async with sql_client(engine) as client:
            tenants = []
            for _ in range(20):
                made = await client.post(
                    "/api/tenants",
                    json={"name": unique("par"), "admin_email": "a@b.io"},
                    headers=operator,
                )
                tenants.append((made.json()["id"], bearer(made.json()["api_key"])))
            agents: dict[str, list[str]] = {tid: [] for tid, _ in tenants}
            for tid, auth in tenants:
                for n in range(2):
                    made = await client.post(
                        "/api/agents", json={"name": f"a{n}", "system_prompt": "p"}, headers=auth
                    )
                    agents[tid].append(made.json()["id"])

            async def one_request(i: int) -> tuple[str, list[str]]:
                tid, auth = tenants[i % 20]
                kind = i % 4
                if kind == 0:
                    r = await client.get("/api/agents", headers=auth)
                    return tid, [a["tenant_id"] for a in r.json()]
                if kind == 1:
                    r = await client.get(f"/api/agents/{random.choice(agents[tid])}", headers=auth)
                    return tid, [r.json()["tenant_id"]]
                if kind == 2:  # another tenant's agent: must be invisible
                    other = tenants[(i + 1) % 20][0]
                    r = await client.get(f"/api/agents/{agents[other][0]}", headers=auth)
                    assert r.status_code == 404
                    return tid, []
                r = await client.post(
                    "/api/agents", json={"name": unique("p"), "system_prompt": "p"}, headers=auth
                )
                assert r.status_code == 201
                return tid, [r.json()["tenant_id"]]

            results = await asyncio.gather(*(one_request(i) for i in range(240)))
        foreign = [(tid, seen) for tid, seen in results if any(s != tid for s in seen)]
        assert len(results) == 240
        assert foreign == []
    finally:
        await engine.dispose()
