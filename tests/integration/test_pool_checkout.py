"""Pooled connections (adapters/sqlalchemy/checkout.py): they go to callers in the order
they asked, their driver connection is read without a greenlet, and one that breaks inside
a unit of work's transaction is not handed out again (the pool resets nothing itself,
adapters/sqlalchemy/engine.py: the unit of work has it invalidated when its transaction
cannot be ended, and the next one gets a new session)."""

import asyncio
import uuid
from collections.abc import AsyncIterator

import psycopg
import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from adapters.sqlalchemy import checkout
from adapters.sqlalchemy.checkout import check_in, check_out, driver_of
from adapters.sqlalchemy.engine import create_runtime_engine
from adapters.sqlalchemy.unit_of_work import SqlUnitOfWork
from tests.support.scopes import OPERATOR, new_tenant

pytestmark = pytest.mark.postgres


@pytest.fixture
async def one_connection(migrated_db: str) -> AsyncIterator[AsyncEngine]:
    engine = create_runtime_engine(migrated_db, pool_size=1)
    yield engine
    await engine.dispose()


async def _turns(engine: AsyncEngine) -> list[str]:
    """A holds the one connection while B and C wait; A gives it back and at once asks
    again (as a sync run's second unit of work does)."""
    turns: list[str] = []

    async def take(name: str) -> None:
        conn, gate = await check_out(engine)
        turns.append(name)
        await check_in(conn, gate)

    conn, gate = await check_out(engine)
    turns.append("A")
    waiting = [asyncio.create_task(take("B")), asyncio.create_task(take("C"))]
    await asyncio.sleep(0.05)  # both are in line
    await check_in(conn, gate)
    await take("A again")
    await asyncio.gather(*waiting)
    return turns


async def test_a_caller_giving_a_connection_back_goes_to_the_end_of_the_line(
    one_connection: AsyncEngine,
) -> None:
    assert await _turns(one_connection) == ["A", "B", "C", "A again"]


async def test_without_the_gate_the_pool_lets_it_jump_the_line(
    one_connection: AsyncEngine, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Why the gate exists: SQLAlchemy's async pool alone serves the latecomer first."""
    monkeypatch.setattr(checkout, "_gate", lambda engine: None)
    assert (await _turns(one_connection))[1] == "A again"


async def test_the_driver_is_the_checked_out_ones_and_an_invalidated_one_is_replaced(
    one_connection: AsyncEngine,
) -> None:
    conn, gate = await check_out(one_connection)
    try:
        driver = await driver_of(conn)  # read straight, no greenlet
        assert driver is (await conn.get_raw_connection()).driver_connection
        await conn.invalidate()  # as after a connection error: SQLAlchemy reconnects
        fresh = await driver_of(conn)
        assert fresh is not driver and not fresh.closed
        assert await (await fresh.execute("SELECT 1")).fetchone() == (1,)
    finally:
        await check_in(conn, gate)


async def _commit_after_the_backend_is_killed(
    uow: SqlUnitOfWork, tenant_id: uuid.UUID, pg_admin_url: str
) -> None:
    """The unit of work's session, killed while its transaction is open; then the commit."""
    async with uow as work:
        await work.scope_to(OPERATOR)
        assert await work.tenants.get(tenant_id) is not None  # the transaction is open
        pid = int(work._live_driver().info.backend_pid)
        with psycopg.connect(pg_admin_url, autocommit=True) as admin:
            admin.execute("SELECT pg_terminate_backend(%s)", (pid,))
        await work.commit()


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
