"""A connection that breaks inside a unit of work's transaction is not handed out again:
the pool resets nothing itself (adapters/sqlalchemy/engine.py), so the unit of work has it
invalidated when its transaction cannot be ended, and the next one gets a new session."""

import uuid
from collections.abc import AsyncIterator

import psycopg
import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from adapters.sqlalchemy.engine import create_runtime_engine
from adapters.sqlalchemy.unit_of_work import SqlUnitOfWork
from tests.support.scopes import OPERATOR, new_tenant

pytestmark = pytest.mark.postgres


@pytest.fixture
async def one_connection(migrated_db: str) -> AsyncIterator[AsyncEngine]:
    engine = create_runtime_engine(migrated_db, pool_size=1)
    yield engine
    await engine.dispose()


async def _commit_after_the_backend_is_killed(
    uow: SqlUnitOfWork, tenant_id: uuid.UUID, pg_admin_url: str
) -> int:
    """The unit of work's session, killed while its transaction is open; then the commit."""
    async with uow as work:
        await work.scope_to(OPERATOR)
        assert await work.tenants.get(tenant_id) is not None  # the transaction is open
        pid = int(work._live_driver().info.backend_pid)
        with psycopg.connect(pg_admin_url, autocommit=True) as admin:
            admin.execute("SELECT pg_terminate_backend(%s)", (pid,))
        await work.commit()
    return pid


async def test_a_connection_killed_mid_transaction_is_replaced(
    one_connection: AsyncEngine, pg_admin_url: str
) -> None:
    def uow() -> SqlUnitOfWork:
        return SqlUnitOfWork(one_connection)

    tenant_id = await new_tenant(uow)
    killed = _commit_after_the_backend_is_killed(uow(), tenant_id, pg_admin_url)
    with pytest.raises(psycopg.OperationalError):
        await killed
    async with uow() as work:  # the pool's one connection: a new session, not the dead one
        await work.scope_to(OPERATOR)
        assert await work.tenants.get(tenant_id) is not None
