"""Queued executions over the in-memory adapters: submit and cancel at the API, the
worker's RunQueuedExecution, and the reaper."""

import asyncio
import uuid
from collections.abc import Iterator
from datetime import timedelta

import httpx
import pytest

from application.gateway_errors import GatewayTimeout, GatewayUnavailable
from application.use_cases.queued_executions import REQUEUE_AFTER
from application.use_cases.reaper import MAX_ATTEMPTS
from application.use_cases.run_execution import Lease
from domain.errors import Conflict
from domain.execution import MAX_INPUT_LENGTH, ExecutionStatus
from tests.support.http_helpers import Api, assert_detail, assert_validation_error, open_api
from tests.support.queue_world import REAPER_REQUEUE_AFTER, BlockingGateway, World


@pytest.fixture
def api() -> Iterator[Api]:
    with open_api() as opened:
        yield opened


def submit(
    api: Api, agent_id: object, auth: dict[str, str], text: str = "x", key: bytes | None = None
) -> httpx.Response:
    headers = [(k.encode(), v.encode()) for k, v in auth.items()]
    if key is not None:
        headers.append((b"Idempotency-Key", key))
    url = f"/api/agents/{agent_id}/executions"
    return api.client.post(url, json={"input": text}, headers=headers)


def test_submit_answers_202_with_location_a_queued_row_and_one_message(api: Api) -> None:
    tenant = api.tenant()
    agent = api.agent(tenant.headers)
    response = submit(api, agent["id"], tenant.headers, "hi")
    assert response.status_code == 202, response.text
    body = response.json()
    assert body["status"] == "queued"
    assert response.headers["location"] == f"/api/executions/{body['id']}"
    got = api.client.get(response.headers["location"], headers=tenant.headers).json()
    assert (got["status"], got["input"], got["agent_id"]) == ("queued", "hi", agent["id"])
    assert api.env.queue.sent == [(uuid.UUID(body["id"]), uuid.UUID(tenant.id))]
    assert api.env.gateway.calls == []  # the API never runs it


def test_idempotency_key_replays_the_same_body_and_refuses_another(api: Api) -> None:
    tenant, stranger = api.tenant(), api.tenant()
    agent, theirs = api.agent(tenant.headers), api.agent(stranger.headers)
    first = submit(api, agent["id"], tenant.headers, "once", b"order-42")
    again = submit(api, agent["id"], tenant.headers, "once", b"order-42")
    assert first.status_code == again.status_code == 202
    assert again.json()["id"] == first.json()["id"]
    assert again.headers["location"] == first.headers["location"]
    other = submit(api, agent["id"], tenant.headers, "twice", b"order-42")
    errors = assert_validation_error(other, None, "header")
    assert errors[0]["loc"][-1].lower() == "idempotency-key"
    # Another tenant's key of the same name is its own.
    mine = submit(api, theirs["id"], stranger.headers, "once", b"order-42")
    assert mine.status_code == 202 and mine.json()["id"] != first.json()["id"]
    assert len(api.env.queue.sent) == len(api.store.executions) == 2


@pytest.mark.parametrize("key", [b"has space", b"tab\there", b"k" * 256, "caf\u00e9".encode()])
def test_a_malformed_idempotency_key_is_422_and_creates_nothing(api: Api, key: bytes) -> None:
    tenant = api.tenant()
    agent = api.agent(tenant.headers)
    assert_validation_error(submit(api, agent["id"], tenant.headers, key=key), None, "header")
    assert api.store.executions == {} and api.env.queue.sent == []


def test_bad_input_gets_the_contract_errors_and_creates_nothing(api: Api) -> None:
    tenant, stranger = api.tenant(), api.tenant()
    agent, theirs = api.agent(tenant.headers), api.agent(stranger.headers)
    suspended = api.agent(tenant.headers)
    patch = {"status": "suspended"}
    assert api.client.patch(
        f"/api/agents/{suspended['id']}", json=patch, headers=tenant.headers
    ).is_success

    def post(agent_id: object, text: str = "x") -> httpx.Response:
        return submit(api, agent_id, tenant.headers, text, uuid.uuid4().hex.encode())

    assert_detail(post(uuid.uuid4()), 404, "Agent not found")
    assert_detail(post(theirs["id"]), 404, "Agent not found")
    assert_detail(post(suspended["id"]), 409)
    assert_validation_error(post(agent["id"], "x" * (MAX_INPUT_LENGTH + 1)), "input", "body")
    assert_validation_error(post(agent["id"], ""), "input", "body")
    assert_validation_error(post("not-a-uuid"), None, "path")
    assert api.store.executions == {} and api.store.idempotency == {}
    assert api.env.queue.sent == []


def test_a_replay_after_the_run_returns_the_first_response(api: Api) -> None:
    tenant = api.tenant()
    agent = api.agent(tenant.headers)
    first = submit(api, agent["id"], tenant.headers, "hi", b"replay-after-run")
    api.client.post(f"/api/executions/{first.json()['id']}/cancel", headers=tenant.headers)
    again = submit(api, agent["id"], tenant.headers, "hi", b"replay-after-run")
    assert (again.status_code, again.json()) == (first.status_code, first.json())


async def test_one_run_is_recorded_and_a_second_delivery_is_a_no_op() -> None:
    world = World()
    execution_id = await world.submit("ping")
    for worker in ("w1", "w1", "w2"):
        await world.run(execution_id, worker)
    row = world.row(execution_id)
    assert (row.status, row.output, row.attempts) == (ExecutionStatus.SUCCESS, "echo: ping", 1)
    assert row.usage is not None and row.finished_at is not None
    assert len(world.gateway.calls) == 1


async def test_a_key_in_flight_is_409() -> None:
    world = World()
    async with world.uow() as holder:
        assert await holder.idempotency.lock(world.agent.tenant_id, "busy")
        with pytest.raises(Conflict):
            await world.submit(key="busy")
    await world.submit(key="busy")


async def test_cancelled_before_the_claim_never_reaches_the_gateway() -> None:
    world = World()
    execution_id = await world.submit()
    assert (await world.cancel(execution_id)).status is ExecutionStatus.CANCELLED
    await world.run(execution_id)
    assert world.row(execution_id).status is ExecutionStatus.CANCELLED
    assert world.gateway.calls == []
    assert (await world.cancel(execution_id)).status is ExecutionStatus.CANCELLED  # unchanged


async def test_cancel_while_running_ends_cancelled_at_the_next_heartbeat() -> None:
    world = World()
    execution_id, run = await world.start_blocked()
    answered = await world.cancel(execution_id)  # waits for the worker's next heartbeat
    assert answered.cancel_requested
    assert answered.status is ExecutionStatus.CANCELLED
    await asyncio.wait_for(run, 5)  # never released: the worker stopped the call itself
    row = world.row(execution_id)
    assert row.status is ExecutionStatus.CANCELLED and row.output is None
    assert row.finished_at is not None and row.lease_expires_at is None


async def test_a_cancelled_run_keeps_its_cancel_request() -> None:
    world = World()
    execution_id, run = await world.start_blocked()
    await world.cancel(execution_id)
    await asyncio.wait_for(run, 5)
    assert world.row(execution_id).cancel_requested


async def test_a_lost_lease_drops_the_result() -> None:
    world = World()
    slow_heartbeat = Lease(duration=timedelta(seconds=30), heartbeat=timedelta(seconds=60))
    execution_id, run = await world.start_blocked(slow_heartbeat)
    world.clock.at += timedelta(seconds=31)  # the lease ran out: the reaper takes it back
    assert await world.reap() == (1, 0)
    assert isinstance(world.gateway, BlockingGateway)
    world.gateway.release.set()
    await asyncio.wait_for(run, 5)
    row = world.row(execution_id)
    assert (row.status, row.output, row.claimed_by) == (ExecutionStatus.QUEUED, None, None)
    await world.run(execution_id, "w2")  # the reaper's message: this result counts
    assert (world.row(execution_id).status, world.row(execution_id).attempts) == (
        ExecutionStatus.SUCCESS,
        2,
    )


@pytest.mark.parametrize(
    ("error", "status"),
    [
        (GatewayUnavailable("the gateway is down"), ExecutionStatus.FAILED),
        (GatewayTimeout("no answer in 60 s"), ExecutionStatus.TIMED_OUT),
    ],
)
async def test_gateway_errors_end_the_run(error: Exception, status: ExecutionStatus) -> None:
    world = World()
    execution_id = await world.submit()
    world.gateway.fail_next(error, "chat")
    await world.run(execution_id)
    row = world.row(execution_id)
    assert (row.status, row.error, row.output) == (status, str(error), None)


async def test_a_broker_that_is_down_still_accepts_and_the_reaper_enqueues_when_due() -> None:
    world = World()
    world.queue.down = True
    execution_id = await world.submit()
    assert world.queue.sent == []
    world.queue.down = False
    assert await world.reap() == (0, 0)  # not due yet
    world.clock.at += REQUEUE_AFTER + timedelta(seconds=1)
    assert await world.reap() == (1, 0)
    assert world.queue.sent == [(execution_id, world.agent.tenant_id)]
    assert world.row(execution_id).lease_expires_at == world.clock.at + REAPER_REQUEUE_AFTER
    await world.run(execution_id)
    await world.run(execution_id)  # the stale queued message, delivered late: a no-op
    assert world.row(execution_id).status is ExecutionStatus.SUCCESS
    assert len(world.gateway.calls) == 1


async def test_the_reaper_requeues_a_lost_run_until_max_attempts_then_times_it_out() -> None:
    world = World()
    execution_id = await world.submit()
    world.queue.sent.clear()
    for attempt in range(1, MAX_ATTEMPTS + 1):
        async with world.uow() as uow:  # a worker claims it, then dies
            await uow.scope_to(world.principal)
            now = world.clock.now()
            claimed = await uow.executions.claim(execution_id, f"w{attempt}", now, now)
            await uow.commit()
        assert claimed is not None and claimed.attempts == attempt
        world.clock.at += timedelta(seconds=1)
        last = attempt == MAX_ATTEMPTS
        assert await world.reap() == ((0, 1) if last else (1, 0))
        assert world.queue.sent == [(execution_id, world.agent.tenant_id)] * min(
            attempt, MAX_ATTEMPTS - 1
        )
    row = world.row(execution_id)
    assert row.status is ExecutionStatus.TIMED_OUT and row.error
    assert await world.reap() == (0, 0)  # finished rows are never due


async def test_a_stale_queued_execution_is_enqueued_again() -> None:
    world = World()
    execution_id = await world.submit()
    world.clock.at += REQUEUE_AFTER + timedelta(seconds=1)
    assert await world.reap() == (1, 0)
    assert world.queue.sent == [(execution_id, world.agent.tenant_id)] * 2
    assert world.row(execution_id).status is ExecutionStatus.QUEUED
