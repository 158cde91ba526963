"""How many times a run waits for PostgreSQL: what the unit of work holds back and sends
together (adapters/sqlalchemy/unit_of_work.py) is the main cost of these paths. Counted
on the wire, by a relay in front of PostgreSQL (tests/support/round_trip_proxy.py)."""

import secrets
from collections.abc import AsyncIterator, Iterator
from typing import Any

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from adapters.fake_llm.gateway import FakeLlmGateway
from adapters.in_memory.job_queue import InMemoryJobQueue
from adapters.nacl.secret_box import NaclSecretBox
from adapters.sqlalchemy.engine import create_runtime_engine
from adapters.sqlalchemy.unit_of_work import SqlUnitOfWork
from adapters.system import SystemClock
from application.use_cases.run_execution import RunQueuedExecution
from application.use_cases.services import LlmServices
from tests.support.llm_helpers import add_agent, add_provider, admin_query, new_tenant
from tests.support.round_trip_proxy import RoundTripProxy, round_trip_proxy
from tests.support.sql_app import TEST_SECRET_KEYS, sql_client

pytestmark = pytest.mark.postgres


@pytest.fixture(scope="module")
def proxied(migrated_db: str) -> Iterator[tuple[RoundTripProxy, str]]:
    """What the client sends, one entry per round trip, and the database URL through it."""
    with round_trip_proxy(migrated_db) as made:
        yield made


@pytest.fixture(scope="module")
async def counted_engine(proxied: tuple[RoundTripProxy, str]) -> AsyncIterator[AsyncEngine]:
    engine = create_runtime_engine(proxied[1], pool_size=5)
    yield engine
    await engine.dispose()


@pytest.fixture
def round_trips(proxied: tuple[RoundTripProxy, str]) -> RoundTripProxy:
    proxied[0].clear()
    return proxied[0]


async def test_reading_an_agent_waits_once(
    counted_engine: AsyncEngine, operator: dict[str, str], round_trips: RoundTripProxy
) -> None:
    async with sql_client(counted_engine, FakeLlmGateway()) as client:
        _, headers = await new_tenant(client, operator)
        agent = await add_agent(client, headers)
        _, others = await new_tenant(client, operator)
        round_trips.clear()
        mine = await client.get(f"/api/agents/{agent['id']}", headers=headers)
        assert len(round_trips.round_trips) == 1, (
            round_trips.statements()
        )  # key + context + the agent, one implicit transaction: no BEGIN, no COMMIT
        theirs = await client.get(f"/api/agents/{agent['id']}", headers=others)
        bad_key = {"Authorization": "Bearer ak_tn_" + secrets.token_urlsafe(32)}  # unknown
        anonymous = await client.get(f"/api/agents/{agent['id']}", headers=bad_key)
    assert mine.status_code == 200 and mine.json()["id"] == agent["id"], mine.text
    # Read with the key, under the context it sets: another tenant's key finds nothing.
    assert (theirs.status_code, anonymous.status_code) == (404, 401)


async def test_creating_an_agent_waits_twice(
    counted_engine: AsyncEngine, operator: dict[str, str], round_trips: RoundTripProxy
) -> None:
    async with sql_client(counted_engine, FakeLlmGateway()) as client:
        _, headers = await new_tenant(client, operator)
        await add_agent(client, headers, name="first")
        round_trips.clear()
        body = {"name": "second", "system_prompt": "Be brief."}
        created = await client.post("/api/agents", json=body, headers=headers)
        assert created.status_code == 201, created.text
        assert len(round_trips.round_trips) == 2, (
            round_trips.statements()
        )  # key + context; INSERT + COMMIT
        again = await client.post("/api/agents", json=body, headers=headers)
        listed = await client.get("/api/agents", headers=headers)
    # The INSERT's refusal comes with the COMMIT, and is still the contract's 409.
    assert again.status_code == 409, again.text
    assert sorted(a["name"] for a in listed.json()) == ["first", "second"]


async def test_a_sync_run_waits_three_times(
    counted_engine: AsyncEngine, operator: dict[str, str], round_trips: RoundTripProxy
) -> None:
    async with sql_client(counted_engine, FakeLlmGateway()) as client:
        _, headers = await new_tenant(client, operator)
        agent = await add_agent(client, headers, model="gpt-4o")
        round_trips.clear()
        body = {"agent_id": agent["id"], "input": "hello"}
        response = await client.post("/api/agents/execute", json=body, headers=headers)
    assert response.status_code == 200, response.text
    # key + context + agent, INSERT + COMMIT, (the call), context + UPDATE
    assert len(round_trips.round_trips) == 3, round_trips.statements()
    _one_implicit_transaction(round_trips.statements()[-1])


def _one_implicit_transaction(statements: list[str]) -> None:
    """The run's result: the context and the UPDATE in one batch, no BEGIN or COMMIT, so
    PostgreSQL runs them as one transaction (the context holds for the UPDATE)."""
    assert statements[0].startswith("SELECT set_tenant_context("), statements
    assert statements[-1].startswith("WITH changed AS (UPDATE executions SET "), statements
    assert len(statements) == 2, statements  # no BEGIN, no COMMIT


async def test_a_byok_run_reads_its_providers_with_the_key(
    counted_engine: AsyncEngine, operator: dict[str, str], round_trips: RoundTripProxy
) -> None:
    gateway = FakeLlmGateway()
    async with sql_client(counted_engine, gateway) as client:
        runs: list[tuple[dict[str, str], dict[str, Any], dict[str, Any]]] = []
        for _ in range(2):  # two tenants, each with a provider and a BYOK agent
            tenant_id, headers = await new_tenant(client, operator)
            provider = await add_provider(client, tenant_id, headers)
            agent = await add_agent(client, headers, use_byok=True)
            runs.append((headers, provider, agent))
        round_trips.clear()
        for caller, (_, _, agent) in zip([runs[0][0], operator], runs, strict=True):
            body = {"agent_id": agent["id"], "input": "hello"}
            response = await client.post("/api/agents/execute", json=body, headers=caller)
            assert response.status_code == 200, response.text
    # The same three as a platform run: the providers come with the key and the agent.
    assert len(round_trips.round_trips) == 6, round_trips.statements()
    # Each run went through its own tenant's key, the operator's run too (whose context
    # sees every tenant's providers).
    assert [c.api_key for c in gateway.calls] == [p["virtual_key"] for _, p, _ in runs]


@pytest.mark.parametrize("byok", [False, True], ids=["platform", "byok"])
async def test_an_openai_call_by_name_waits_as_by_id(
    counted_engine: AsyncEngine, operator: dict[str, str], round_trips: RoundTripProxy, byok: bool
) -> None:
    """`model: "agent:<name>"`: the agent (and its BYOK providers) by name, read with the
    key in the tenant its context names: three waits, as for an id."""
    gateway = FakeLlmGateway()
    async with sql_client(counted_engine, gateway) as client:
        tenant_id, headers = await new_tenant(client, operator)
        provider = await add_provider(client, tenant_id, headers) if byok else None
        await add_agent(client, headers, name="triage", use_byok=byok)
        round_trips.clear()
        body = {"model": "agent:triage", "messages": [{"role": "user", "content": "hello"}]}
        response = await client.post("/v1/chat/completions", json=body, headers=headers)
    assert response.status_code == 200, response.text
    # key + context + agent (+ providers), INSERT + COMMIT, (the call), context + UPDATE
    assert len(round_trips.round_trips) == 3, round_trips.statements()
    assert [c.api_key for c in gateway.calls] == [provider["virtual_key"] if provider else None]


async def test_a_queued_run_waits_three_times(
    counted_engine: AsyncEngine,
    migrated_db: str,
    operator: dict[str, str],
    round_trips: RoundTripProxy,
) -> None:
    queue, gateway = InMemoryJobQueue(), FakeLlmGateway()
    async with sql_client(counted_engine, gateway, queue) as client:
        _, headers = await new_tenant(client, operator)
        agent = await add_agent(client, headers, model="gpt-4o", system_prompt="Be terse.")
        url = f"/api/agents/{agent['id']}/executions"
        response = await client.post(url, json={"input": "hello"}, headers=headers)
    assert response.status_code == 202, response.text
    [(execution_id, tenant_id)] = queue.sent
    services = LlmServices(
        gateway,
        NaclSecretBox.from_env_value(TEST_SECRET_KEYS),
        SystemClock(),
        lambda: SqlUnitOfWork(counted_engine),
    )
    round_trips.clear()
    await RunQueuedExecution(services, "w1")(execution_id, tenant_id)
    # claim + its agent, COMMIT, (the call), result + COMMIT
    assert len(round_trips.round_trips) == 3, round_trips.statements()
    [row] = admin_query(migrated_db, "SELECT * FROM executions WHERE id = :i", i=execution_id)
    assert (row.status, row.config_model, row.claimed_by) == ("success", "gpt-4o", "w1")
    [chat] = gateway.calls
    assert chat.model == "gpt-4o" and chat.messages[0].content == "Be terse."


async def test_a_quiet_service_stays_on_one_connection(migrated_db: str) -> None:
    """The pool hands out the connection given back last (LIFO): one request after another
    run on one warm server process, not each on the next of the pool's connections."""
    engine = create_runtime_engine(migrated_db, pool_size=3)
    try:
        held = [await engine.connect() for _ in range(3)]  # the pool opens all three
        for conn in held:
            await conn.close()
        backends = set()
        for _ in range(4):
            async with engine.connect() as conn:
                backends.add((await conn.execute(text("SELECT pg_backend_pid()"))).scalar())
        assert len(backends) == 1, backends
    finally:
        await engine.dispose()
