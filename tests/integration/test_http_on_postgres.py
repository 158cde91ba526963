"""The HTTP API over the real PostgreSQL adapters: persistence, isolation, atomicity."""

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
from tests.support.parallel_tenants import requests_of_other_tenants
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
        assert await requests_of_other_tenants(engine) == []
    finally:
        await engine.dispose()
