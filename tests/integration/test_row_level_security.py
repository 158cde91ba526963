"""Row-level security as the runtime role, below any application code."""

import uuid

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError, IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine

from adapters.sqlalchemy.engine import create_runtime_engine
from application.ports.page import Page
from tests.support.factories import unique

pytestmark = pytest.mark.postgres


async def _make_tenant_with_agents(engine: AsyncEngine, agents: int) -> uuid.UUID:
    """`engine` must run real transactions (the tx_engine fixture)."""
    tenant_id = uuid.uuid4()
    async with engine.begin() as conn:
        await conn.execute(text("SELECT set_operator_context()"))
        await conn.execute(
            text("INSERT INTO tenants VALUES (:id, :n, 'a@b.io', now(), now())"),
            {"id": tenant_id, "n": unique("rls")},
        )
        for _ in range(agents):
            await conn.execute(
                text(
                    "INSERT INTO agents (id, tenant_id, name, system_prompt, model, temperature,"
                    " status, created_at, updated_at) VALUES (gen_random_uuid(), :t, :n, 'p',"
                    " 'm', 0.5, 'active', now(), now())"
                ),
                {"t": tenant_id, "n": unique("agent")},
            )
    return tenant_id


async def test_the_service_runs_as_the_unprivileged_runtime_role(sql_engine: AsyncEngine) -> None:
    async with sql_engine.connect() as conn:
        row = (
            await conn.execute(
                text(
                    "SELECT current_user, rolsuper, rolbypassrls FROM pg_roles"
                    " WHERE rolname = current_user"
                )
            )
        ).one()
        owners = (
            await conn.execute(
                text("SELECT count(*) FROM pg_tables WHERE tableowner = current_user")
            )
        ).scalar()
    assert tuple(row) == ("agentkeel_runtime", False, False)
    assert owners == 0


async def test_tenant_sees_only_its_own_agents(tx_engine: AsyncEngine) -> None:
    a = await _make_tenant_with_agents(tx_engine, 3)
    b = await _make_tenant_with_agents(tx_engine, 2)
    async with tx_engine.begin() as conn:
        await conn.execute(text("SELECT set_tenant_context(:t)"), {"t": a})
        seen = (await conn.execute(text("SELECT DISTINCT tenant_id FROM agents"))).scalars().all()
        others = (
            await conn.execute(text("SELECT count(*) FROM agents WHERE tenant_id = :b"), {"b": b})
        ).scalar()
        tenants = (await conn.execute(text("SELECT id FROM tenants"))).scalars().all()
    assert seen == [a]
    assert others == 0
    assert tenants == [a]


async def test_no_context_means_no_rows(tx_engine: AsyncEngine) -> None:
    await _make_tenant_with_agents(tx_engine, 1)
    async with tx_engine.begin() as conn:
        for table in ("tenants", "agents", "api_keys"):
            count = (await conn.execute(text(f"SELECT count(*) FROM {table}"))).scalar()
            assert count == 0, table


async def test_context_does_not_survive_the_transaction(migrated_db: str) -> None:
    one_connection = create_runtime_engine(migrated_db, pool_size=1)
    tenant_engine = one_connection.execution_options(isolation_level="READ COMMITTED")
    try:
        a = await _make_tenant_with_agents(tenant_engine, 2)
        async with tenant_engine.begin() as conn:
            pid = (await conn.execute(text("SELECT pg_backend_pid()"))).scalar()
            await conn.execute(text("SELECT set_tenant_context(:t)"), {"t": a})
            assert (await conn.execute(text("SELECT count(*) FROM agents"))).scalar() == 2
        async with tenant_engine.begin() as conn:
            assert (await conn.execute(text("SELECT pg_backend_pid()"))).scalar() == pid
            setting = await conn.execute(text("SELECT current_setting('app.tenant_id', true)"))
            assert setting.scalar() == ""
            assert (await conn.execute(text("SELECT count(*) FROM agents"))).scalar() == 0
    finally:
        await one_connection.dispose()


async def test_writing_another_tenants_row_is_refused(tx_engine: AsyncEngine) -> None:
    a = await _make_tenant_with_agents(tx_engine, 0)
    b = await _make_tenant_with_agents(tx_engine, 0)
    async with tx_engine.connect() as conn, conn.begin():
        await conn.execute(text("SELECT set_tenant_context(:t)"), {"t": a})
        with pytest.raises(DBAPIError, match="row-level security"):
            await conn.execute(
                text(
                    "INSERT INTO agents (id, tenant_id, name, system_prompt, model, temperature,"
                    " status, created_at, updated_at) VALUES (gen_random_uuid(), :b, 'x', 'p',"
                    " 'm', 0.5, 'active', now(), now())"
                ),
                {"b": b},
            )


async def test_unknown_tenant_is_refused_by_the_foreign_key(tx_engine: AsyncEngine) -> None:
    async with tx_engine.connect() as conn, conn.begin():
        await conn.execute(text("SELECT set_operator_context()"))
        with pytest.raises(IntegrityError) as raised:
            await conn.execute(
                text(
                    "INSERT INTO agents (id, tenant_id, name, system_prompt, model, temperature,"
                    " status, created_at, updated_at) VALUES (gen_random_uuid(),"
                    " gen_random_uuid(), 'x', 'p', 'm', 0.5, 'active', now(), now())"
                )
            )
    assert raised.value.orig.diag.constraint_name == "fk_agents_tenant_id"  # type: ignore[union-attr]


@pytest.mark.parametrize(
    "statement",
    [
        "SELECT * FROM api_key_credentials",
        "ALTER TABLE agents DISABLE ROW LEVEL SECURITY",
        "ALTER TABLE agents NO FORCE ROW LEVEL SECURITY",
        "DROP POLICY agents_isolation ON agents",
        "SELECT set_config('app.tenant_id', 'x', false) FROM api_key_credentials",
    ],
)
async def test_the_runtime_role_cannot_escape(tx_engine: AsyncEngine, statement: str) -> None:
    async with tx_engine.connect() as conn, conn.begin():
        with pytest.raises(DBAPIError):
            await conn.execute(text(statement))


async def test_units_of_work_never_inherit_a_context(migrated_db: str) -> None:
    """The service's own path: BEGIN folded into the first statement, one pooled connection
    reused by one tenant's unit of work and then an unscoped one."""
    from adapters.sqlalchemy.unit_of_work import SqlUnitOfWork
    from domain.principal import Principal

    engine = create_runtime_engine(migrated_db, pool_size=1)
    try:
        tx = engine.execution_options(isolation_level="READ COMMITTED")
        tenant = await _make_tenant_with_agents(tx, 2)
        async with SqlUnitOfWork(engine) as uow:
            await uow.scope_to(Principal(key_id=tenant, tenant_id=tenant))
            assert len(await uow.agents.list(tenant, Page(limit=10))) == 2
        async with SqlUnitOfWork(engine) as uow:
            assert await uow.agents.list(None, Page(limit=10)) == []
            assert await uow.tenants.get(tenant) is None
        async with SqlUnitOfWork(engine) as uow:  # a failed statement ends in ROLLBACK
            await uow.scope_to(Principal(key_id=tenant, tenant_id=tenant))
            with pytest.raises(DBAPIError):
                await uow.connection.execute(text("SELECT 1/0"))
        async with SqlUnitOfWork(engine) as uow:
            assert await uow.agents.list(None, Page(limit=10)) == []
    finally:
        await engine.dispose()
