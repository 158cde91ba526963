"""Pooled connections go to callers in the order they asked, and their driver connection is
read without a greenlet (adapters/sqlalchemy/checkout.py)."""

import asyncio
from collections.abc import AsyncIterator

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from adapters.sqlalchemy import checkout
from adapters.sqlalchemy.checkout import check_in, check_out, driver_of
from adapters.sqlalchemy.engine import create_runtime_engine

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
