"""Queued executions on a real Redis and PostgreSQL: the HTTP app (in process) submits
through the Dramatiq job queue, a WorkerRuntime (in process) runs them."""

import asyncio
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from dramatiq import Message
from dramatiq.brokers.redis import RedisBroker
from sqlalchemy.ext.asyncio import AsyncEngine

from adapters.dramatiq_queue.broker import (
    EXECUTIONS_QUEUE,
    RUN_EXECUTION,
    dead_letter_count,
)
from adapters.dramatiq_queue.queue import DramatiqJobQueue
from adapters.fake_llm.gateway import FakeLlmGateway
from adapters.in_memory.job_queue import InMemoryJobQueue
from adapters.nacl.secret_box import NaclSecretBox
from adapters.sqlalchemy import migrate
from adapters.sqlalchemy.engine import create_runtime_engine
from adapters.sqlalchemy.unit_of_work import SqlUnitOfWork
from application.ports.job_queue import JobQueue
from domain.principal import Principal
from entrypoints.composition import DatabaseUrls, broker_readiness, http_dependencies
from entrypoints.http.app import create_app
from entrypoints.settings import Settings
from entrypoints.worker import runtime as worker_runtime
from tests.support.postgres import scratch_database
from tests.support.sql_app import TEST_SECRET_KEYS, bearer, issue_operator_key

pytestmark = pytest.mark.postgres
Json = dict[str, Any]

REQUEUE_AFTER = timedelta(seconds=1)


@pytest.fixture(scope="module")
def queue_db(pg_admin_url: str) -> Iterator[str]:
    """A database of its own: the worker's reaper sees every tenant's rows."""
    with scratch_database(pg_admin_url) as url:
        migrate.upgrade(url, url)
        yield url


@pytest.fixture(scope="module")
async def engine(queue_db: str) -> AsyncIterator[AsyncEngine]:
    created = create_runtime_engine(queue_db, pool_size=5)
    yield created
    await created.dispose()


@pytest.fixture
def gateway() -> FakeLlmGateway:
    return FakeLlmGateway()


@pytest.fixture
async def worker(
    queue_db: str,
    redis_base: str,
    broker: RedisBroker,
    gateway: FakeLlmGateway,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> AsyncIterator[worker_runtime.WorkerRuntime]:
    monkeypatch.setattr(worker_runtime, "llm_gateway", lambda _settings: gateway)
    settings = Settings(
        database_url=queue_db,
        migration_database_url=queue_db,
        data_dir=tmp_path,
        db_pool_size=5,
        secret_keys=TEST_SECRET_KEYS,
        redis_url=redis_base,
        worker_lease_s=1.5,
        worker_heartbeat_s=0.2,
        reaper_interval_s=0.2,
        requeue_after_s=REQUEUE_AFTER.total_seconds(),
        broker_heartbeat_timeout_s=1.0,
    )
    runtime = worker_runtime.WorkerRuntime(
        settings, DatabaseUrls(queue_db, queue_db, embedded=False), broker, threads=4
    )
    runtime.start()
    yield runtime
    await asyncio.to_thread(runtime.stop)


class TwiceQueue:
    """Every message delivered twice."""

    def __init__(self, inner: JobQueue) -> None:
        self._inner = inner

    async def enqueue_execution(self, execution_id: uuid.UUID, tenant_id: uuid.UUID) -> None:
        await self._inner.enqueue_execution(execution_id, tenant_id)
        await self._inner.enqueue_execution(execution_id, tenant_id)


@asynccontextmanager
async def api(engine: AsyncEngine, broker: RedisBroker, queue: JobQueue) -> AsyncIterator[Any]:
    """A client, and the headers of a new tenant that has one agent (yielded as a tuple)."""
    box = NaclSecretBox.from_env_value(TEST_SECRET_KEYS)
    deps = http_dependencies(
        engine,
        FakeLlmGateway(),
        box,
        queue,
        broker_readiness(broker),
        requeue_after=REQUEUE_AFTER,  # as the worker's settings below
    )
    transport = httpx.ASGITransport(app=create_app(deps))  # type: ignore[arg-type]
    async with httpx.AsyncClient(transport=transport, base_url="http://agentkeel") as client:
        operator = bearer(await issue_operator_key(engine))
        body = {"name": f"t-{uuid.uuid4().hex[:8]}", "admin_email": "a@b.io"}
        tenant = await client.post("/api/tenants", json=body, headers=operator)
        headers = bearer(tenant.json()["api_key"])
        agent = await client.post(
            "/api/agents", json={"name": "a", "system_prompt": "p"}, headers=headers
        )
        assert agent.status_code == 201, agent.text
        yield client, headers, agent.json()["id"], operator


async def submit_many(client: httpx.AsyncClient, headers: Json, agent_id: str, n: int) -> list[str]:
    ids = []
    for i in range(n):
        url = f"/api/agents/{agent_id}/executions"
        response = await client.post(url, json={"input": f"job {i}"}, headers=headers)
        assert response.status_code == 202, response.text
        ids.append(response.json()["id"])
    return ids


async def wait_finished(
    client: httpx.AsyncClient, headers: Json, ids: list[str], seconds: float = 20
) -> list[Json]:
    deadline = time.monotonic() + seconds
    while True:
        rows = [(await client.get(f"/api/executions/{i}", headers=headers)).json() for i in ids]
        if all(r["finished_at"] for r in rows) or time.monotonic() > deadline:
            return rows
        await asyncio.sleep(0.1)


@pytest.mark.usefixtures("worker")
async def test_submitted_executions_are_run_by_the_worker(
    engine: AsyncEngine, broker: RedisBroker, gateway: FakeLlmGateway
) -> None:
    async with api(engine, broker, DramatiqJobQueue(broker)) as (client, headers, agent_id, _):
        ids = await submit_many(client, headers, agent_id, 20)
        rows = await wait_finished(client, headers, ids)
    assert [r["status"] for r in rows] == ["success"] * 20
    assert sorted(r["output"] for r in rows) == sorted(f"echo: job {i}" for i in range(20))
    assert all(r["attempts"] == 1 and r["usage"]["total_tokens"] > 0 for r in rows)
    assert len(gateway.calls) == 20


@pytest.mark.usefixtures("worker")
async def test_every_message_delivered_twice_has_its_effect_once(
    engine: AsyncEngine, broker: RedisBroker, gateway: FakeLlmGateway
) -> None:
    queue = TwiceQueue(DramatiqJobQueue(broker))
    async with api(engine, broker, queue) as (client, headers, agent_id, _):
        ids = await submit_many(client, headers, agent_id, 30)
        rows = await wait_finished(client, headers, ids)
        await asyncio.sleep(0.5)  # let the second copies arrive too
        listed = await client.get("/api/executions?limit=200", headers=headers)
    assert [r["status"] for r in rows] == ["success"] * 30
    assert len(gateway.calls) == 30  # the effect, once per execution
    successes = [r for r in listed.json() if r["status"] == "success" and r["usage"]]
    assert sorted(r["id"] for r in successes) == sorted(ids)  # one result row each
    assert all(r["attempts"] == 1 for r in successes)


async def test_idempotency_keys_on_postgresql(engine: AsyncEngine, broker: RedisBroker) -> None:
    queue = InMemoryJobQueue()
    async with api(engine, broker, queue) as (client, headers, agent_id, _):
        url = f"/api/agents/{agent_id}/executions"
        tenant_id = uuid.UUID(
            (await client.get(f"/api/agents/{agent_id}", headers=headers)).json()["tenant_id"]
        )
        key = {**headers, "Idempotency-Key": f"k-{uuid.uuid4().hex}"}
        first = await client.post(url, json={"input": "a"}, headers=key)
        again = await client.post(url, json={"input": "a"}, headers=key)
        other = await client.post(url, json={"input": "b"}, headers=key)
        async with SqlUnitOfWork(engine) as holder:  # another request holds a new key
            await holder.scope_to(Principal(key_id=uuid.uuid4(), tenant_id=tenant_id))
            busy = {**headers, "Idempotency-Key": "in-flight"}
            assert await holder.idempotency.lock(tenant_id, "in-flight")
            in_flight = await client.post(url, json={"input": "a"}, headers=busy)
        after = await client.post(url, json={"input": "a"}, headers=busy)
    assert (first.status_code, again.status_code, other.status_code) == (202, 202, 422)
    assert again.json()["id"] == first.json()["id"]
    assert in_flight.status_code == 409, in_flight.text
    assert after.status_code == 202
    assert len(queue.sent) == 2  # the first and the one after the lock: no replay sends


@pytest.mark.usefixtures("worker")
async def test_a_run_whose_worker_died_is_requeued_by_the_reaper_and_finished(
    engine: AsyncEngine, broker: RedisBroker, gateway: FakeLlmGateway
) -> None:
    lost = InMemoryJobQueue()  # its message never reaches Redis
    async with api(engine, broker, lost) as (client, headers, agent_id, _):
        [execution_id] = await submit_many(client, headers, agent_id, 1)
        [(eid, tenant_id)] = lost.sent
        async with SqlUnitOfWork(engine) as uow:  # a worker claimed it, then died
            await uow.scope_to(Principal(key_id=uuid.uuid4(), tenant_id=tenant_id))
            now = datetime.now(UTC)
            assert await uow.executions.claim(eid, "dead-worker", now, now)
            await uow.commit()
        [row] = await wait_finished(client, headers, [execution_id], seconds=15)
    assert (row["status"], row["attempts"]) == ("success", 2)
    # Only this run's calls: the idempotency test's executions are left queued (their
    # messages never reached Redis) and this worker's reaper may run them meanwhile.
    assert [c.messages[-1].content for c in gateway.calls].count("job 0") == 1


@pytest.mark.usefixtures("worker")
async def test_a_submission_whose_message_was_lost_runs_within_requeue_after(
    engine: AsyncEngine, broker: RedisBroker
) -> None:
    async with api(engine, broker, InMemoryJobQueue()) as (client, headers, agent_id, _):
        ids = await submit_many(client, headers, agent_id, 1)
        [row] = await wait_finished(client, headers, ids, seconds=4)  # requeue_after_s = 1
    assert row["status"] == "success"


@pytest.mark.usefixtures("worker")
async def test_a_poison_message_is_dead_lettered_and_visible(
    engine: AsyncEngine, broker: RedisBroker, gateway: FakeLlmGateway
) -> None:
    poison: Message[None] = Message(
        queue_name=EXECUTIONS_QUEUE,
        actor_name=RUN_EXECUTION,
        args=("not-a-uuid", "nor-this"),
        kwargs={},
        options={},
    )
    broker.enqueue(poison)
    deadline = time.monotonic() + 10  # no retries: well inside the retry bound
    while True:
        if dead_letter_count(broker) >= 1 or time.monotonic() > deadline:
            break
        await asyncio.sleep(0.05)
    assert dead_letter_count(broker) == 1
    assert gateway.calls == []
    async with api(engine, broker, DramatiqJobQueue(broker)) as (client, _, _, operator):
        ready = await client.get("/health/ready")
        metrics = await client.get("/metrics", headers=operator)
    assert ready.status_code == 200, ready.text
    assert ready.json()["checks"]["broker"] == "ok"
    assert int(ready.json()["checks"]["dead_letters"]) >= 1
    assert "agentkeel_dead_letters 1" in metrics.text
