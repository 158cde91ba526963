"""psycopg's prepared statements and pipelines, as the unit of work uses them, seen on the
wire (tests/support/round_trip_proxy.py) and in PostgreSQL: values only as bound
parameters, each statement prepared once per connection, and what a ROLLBACK or a failed
batch does to them (docs/database.md)."""

import uuid
from collections.abc import AsyncIterator, Iterator

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from adapters.fake_llm.gateway import FakeLlmGateway
from adapters.sqlalchemy.engine import create_runtime_engine
from adapters.sqlalchemy.unit_of_work import SqlUnitOfWork
from domain.errors import DuplicateName
from tests.support.factories import an_agent
from tests.support.llm_helpers import add_agent, new_tenant
from tests.support.round_trip_proxy import RoundTripProxy, round_trip_proxy
from tests.support.scopes import as_tenant
from tests.support.scopes import new_tenant as new_tenant_row
from tests.support.sql_app import sql_client

pytestmark = pytest.mark.postgres

_TRANSACTION_CONTROL = {"BEGIN", "COMMIT"}


@pytest.fixture(scope="module")
def proxied(migrated_db: str) -> Iterator[tuple[RoundTripProxy, str]]:
    with round_trip_proxy(migrated_db) as made:
        yield made


@pytest.fixture
async def one_connection(proxied: tuple[RoundTripProxy, str]) -> AsyncIterator[AsyncEngine]:
    """The service's pool with one connection, through the relay: every unit of work runs
    on the same PostgreSQL session."""
    engine = create_runtime_engine(proxied[1], pool_size=1)
    yield engine
    await engine.dispose()


@pytest.fixture
def wire(proxied: tuple[RoundTripProxy, str]) -> RoundTripProxy:
    proxied[0].clear()
    return proxied[0]


async def _server_prepared(engine: AsyncEngine) -> list[str]:
    """The protocol-level prepared statements of the pool's one session."""
    async with engine.connect() as conn:
        rows = await conn.execute(
            text("SELECT statement, from_sql FROM pg_prepared_statements ORDER BY prepare_time")
        )
        found = list(rows)
    assert not any(from_sql for _, from_sql in found), found  # no SQL PREPARE of ours
    return [statement for statement, _ in found]


async def test_values_travel_apart_from_the_sql(
    one_connection: AsyncEngine, operator: dict[str, str], wire: RoundTripProxy
) -> None:
    tricky = "it's; DROP TABLE agents; -- $1 \\ E'x'"
    async with sql_client(one_connection, FakeLlmGateway()) as client:
        _, headers = await new_tenant(client, operator)
        agent = await add_agent(client, headers, name=tricky)
        body = {"agent_id": agent["id"], "input": tricky}
        ran = await client.post("/api/agents/execute", json=body, headers=headers)
        read = await client.get(f"/api/agents/{agent['id']}", headers=headers)
    assert ran.status_code == 200 and read.json()["name"] == tricky, ran.text
    sql_text = "\n".join(sql for trip in wire.round_trips for sql in trip.parsed)
    sent = b"".join(bytes(trip.raw) for trip in wire.round_trips)
    for value in (agent["id"], tricky, headers["Authorization"].split()[1]):
        assert value not in sql_text
    # The check above can fail: the values are on the wire, as Bind parameters (psycopg
    # sends a UUID as its 16 bytes).
    assert uuid.UUID(agent["id"]).bytes in sent and tricky.encode() in sent


async def test_each_statement_is_prepared_once_and_a_read_ends_in_commit(
    one_connection: AsyncEngine, operator: dict[str, str], wire: RoundTripProxy
) -> None:
    async with sql_client(one_connection, FakeLlmGateway()) as client:
        _, headers = await new_tenant(client, operator)
        agent = await add_agent(client, headers)
        url = f"/api/agents/{agent['id']}"
        assert (await client.get(url, headers=headers)).status_code == 200
        wire.clear()
        again = await client.get(url, headers=headers)
        assert again.status_code == 200, again.text
        # The key lookup and the agent: one implicit transaction, no BEGIN, no COMMIT.
        [batch] = wire.statements()
        assert len(batch) == 2 and batch[0].startswith("SELECT key_id, tenant_id, key_hash")
        # Only Binds of the statements prepared by the first GET: nothing parsed again.
        assert set(wire.round_trips[0].parsed) <= _TRANSACTION_CONTROL, wire.round_trips[0].parsed
        prepared = await _server_prepared(one_connection)
        assert batch[0] in prepared and batch[1] in prepared
        wire.clear()
        listed = await client.get("/api/agents", headers=headers)
        assert listed.status_code == 200, listed.text
    # A read in a transaction of its own ends in COMMIT: no ROLLBACK, so psycopg keeps
    # its statements.
    assert wire.statements()[-1] == ["COMMIT"], wire.statements()
    assert batch[0] in await _server_prepared(one_connection)


async def test_after_a_rollback_psycopg_deallocates_and_prepares_again(
    one_connection: AsyncEngine, operator: dict[str, str], wire: RoundTripProxy
) -> None:
    async with sql_client(one_connection, FakeLlmGateway()) as client:
        _, headers = await new_tenant(client, operator)
        agent = await add_agent(client, headers)
        url = f"/api/agents/{agent['id']}"
        assert (await client.get(url, headers=headers)).status_code == 200
        assert len(await _server_prepared(one_connection)) >= 2
        wire.clear()
        async with SqlUnitOfWork(one_connection) as uow:  # writes, never commits
            await uow.scope_to(as_tenant(uuid.UUID(agent["tenant_id"])))
            assert await uow.agents.delete(uuid.UUID(agent["id"]))
        assert wire.statements()[-2:] == [["ROLLBACK"], ["DEALLOCATE ALL"]]
        assert await _server_prepared(one_connection) == []
        wire.clear()
        again = await client.get(url, headers=headers)
    assert again.status_code == 200, again.text  # the delete was rolled back
    assert len(wire.round_trips) == 1  # prepared again in the same batch: no extra wait
    assert any(sql.startswith("SELECT key_id") for sql in wire.round_trips[0].parsed)


async def test_a_failed_batch_forgets_what_it_could_not_prepare(
    one_connection: AsyncEngine,
) -> None:
    """PostgreSQL skips the rest of a batch after an error, preparations included: psycopg
    raises the first error and does not take a skipped statement for prepared."""
    tenant_id = await new_tenant_row(lambda: SqlUnitOfWork(one_connection))
    taken = an_agent(tenant_id)
    async with SqlUnitOfWork(one_connection) as uow:
        await uow.scope_to(as_tenant(tenant_id))
        await uow.agents.add(taken)
        await uow.commit()
    missing = uuid.uuid4()
    async with SqlUnitOfWork(one_connection) as uow:
        await uow.scope_to(as_tenant(tenant_id))
        await uow.agents.add(an_agent(tenant_id, name=taken.name))  # refused...
        with pytest.raises(DuplicateName):
            await uow.executions.get(missing)  # ...and the first execution read skipped
    async with SqlUnitOfWork(one_connection) as uow:  # same session: prepared now, runs
        await uow.scope_to(as_tenant(tenant_id))
        assert await uow.executions.get(missing) is None
        assert await uow.agents.get(taken.id) == taken


async def test_a_batch_without_begin_is_all_or_nothing(one_connection: AsyncEngine) -> None:
    tenant_id = await new_tenant_row(lambda: SqlUnitOfWork(one_connection))
    first, clash = an_agent(tenant_id), an_agent(tenant_id)
    async with SqlUnitOfWork(one_connection) as uow:
        await uow.scope_to(as_tenant(tenant_id))
        await uow.agents.add(clash)
        await uow.commit()
    async with SqlUnitOfWork(one_connection) as uow:
        await uow.scope_to(as_tenant(tenant_id))
        await uow.agents.add(first)
        await uow.agents.add(an_agent(tenant_id, name=clash.name))
        with pytest.raises(DuplicateName):
            await uow.commit()  # context, INSERT, INSERT: one implicit transaction
    async with SqlUnitOfWork(one_connection) as uow:
        await uow.scope_to(as_tenant(tenant_id))
        assert await uow.agents.get(first.id) is None
        assert await uow.agents.get(clash.id) == clash
