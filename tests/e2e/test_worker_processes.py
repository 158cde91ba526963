"""Queued executions through real processes: `agentkeel serve` (with AGENTKEEL_REDIS_URL, so
it runs no workers), `agentkeel worker`, PostgreSQL, Redis and a slow LiteLLM stand-in."""

import json
import random
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass

import httpx
import pytest
from httpx_sse import EventSource

from tests.support.postgres import scratch_database
from tests.support.processes import clean_env, run_cli, serving
from tests.support.redis import redis_url
from tests.support.slow_gateway import slow_litellm
from tests.support.sql_app import TEST_SECRET_KEYS
from tests.support.worker_stack import Json, Stack, WorkerProcess, eventually

pytestmark = pytest.mark.postgres
CRASH_EXECUTIONS = 200
SHORT_TIMEOUTS = {
    "AGENTKEEL_WORKER_LEASE_S": "2",
    "AGENTKEEL_WORKER_HEARTBEAT_S": "0.5",
    "AGENTKEEL_REAPER_INTERVAL_S": "0.5",
    "AGENTKEEL_REQUEUE_AFTER_S": "2",
    "AGENTKEEL_BROKER_HEARTBEAT_TIMEOUT_S": "2",
}


@pytest.fixture(scope="module")
def stack(pg_admin_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    logs = tmp_path_factory.mktemp("worker-logs")
    with redis_url() as redis, scratch_database(pg_admin_url) as db, slow_litellm() as upstream:
        env = clean_env(
            AGENTKEEL_DATABASE_URL=db,
            AGENTKEEL_SECRET_KEYS=TEST_SECRET_KEYS,
            AGENTKEEL_REDIS_URL=redis,
            AGENTKEEL_LITELLM_URL=upstream.url,
            AGENTKEEL_LITELLM_MASTER_KEY="sk-e2e-master",
            AGENTKEEL_DATA_DIR=str(logs / "data"),
            **SHORT_TIMEOUTS,
        )
        run_cli("migrate", env=env)
        operator = {"Authorization": f"Bearer {run_cli('operator-key', 'create', env=env).strip()}"}
        with serving(env) as (base, _):
            body = {"name": f"e2e-{uuid.uuid4().hex[:8]}", "admin_email": "a@b.io"}
            tenant = httpx.post(f"{base}/api/tenants", json=body, headers=operator)
            assert tenant.status_code == 201, tenant.text
            ready = httpx.get(f"{base}/health/ready").json()["checks"]
            assert ready == {"database": "ok", "broker": "ok", "dead_letters": "0"}
            headers = {"Authorization": f"Bearer {tenant.json()['api_key']}"}
            worker = WorkerProcess(env, logs)
            try:
                yield Stack(base, headers, upstream, worker, uuid.uuid4().hex[:8])
            finally:
                worker.stop()


def test_a_queued_execution_cancelled_before_any_worker_never_runs(stack: Stack) -> None:
    assert not stack.worker.running  # serve itself runs no workers
    agent = stack.agent()
    text = f"cancel me {stack.stamp}"
    execution_id = stack.submit(agent, text)
    time.sleep(0.5)
    assert stack.get(execution_id)["status"] == "queued"
    assert stack.cancel(execution_id)["status"] == "cancelled"
    stack.worker.start()
    after = stack.submit(agent, f"after the cancel {stack.stamp}")  # FIFO: behind its message
    assert stack.finished(after)["status"] == "success"
    row = stack.get(execution_id)
    assert (row["status"], row["started_at"], row["attempts"]) == ("cancelled", None, 0)
    assert stack.upstream.count(text) == 0


def test_a_submitted_execution_is_run_by_the_worker_process(stack: Stack) -> None:
    if not stack.worker.running:
        stack.worker.start()
    text = f"hello worker {stack.stamp}"
    row = stack.finished(stack.submit(stack.agent(), text))
    assert (row["status"], row["output"], row["attempts"]) == ("success", f"echo: {text}", 1)
    assert row["usage"]["total_tokens"] > 0 and row["started_at"] and row["error"] is None
    assert stack.upstream.count(text) == 1


def test_a_queued_run_is_followed_live_from_the_worker_through_redis(stack: Stack) -> None:
    """GET /api/executions/{id}/events on serve, fed by the worker process over Redis."""
    if not stack.worker.running:
        stack.worker.start()
    agent = stack.agent()
    text = f"follow me live {stack.stamp}"
    stack.upstream.delay = 1.0  # the run is still going when the client connects
    try:
        execution_id = stack.submit(agent, text)
        url = f"{stack.base}/api/executions/{execution_id}/events"
        with httpx.stream("GET", url, headers=stack.tenant, timeout=30) as response:
            assert response.status_code == 200
            events = [(e.event, json.loads(e.data), e.id) for e in EventSource(response).iter_sse()]
    finally:
        stack.upstream.delay = 0.0
    kinds = [kind for kind, _, _ in events]
    assert kinds[0] == "status" and kinds[-1] == "done"
    assert "running" in [data["status"] for kind, data, _ in events if kind == "status"]
    deltas = [data["content"] for kind, data, _ in events if kind == "delta"]
    # Deltas that come while one is being published go together (DeltaRelay): a stub that
    # sends its whole stream at once may make them one.
    assert deltas and "".join(deltas) == f"echo: {text}"
    assert events[-1][1]["status"] == "success" and events[-1][1]["output"] == f"echo: {text}"
    worker_ids = [event_id for kind, _, event_id in events if kind == "delta"]
    assert all(worker_ids)
    # Reconnecting after the first delta replays only what came after it.
    headers = {**stack.tenant, "Last-Event-ID": worker_ids[0]}
    with httpx.stream("GET", url, headers=headers, timeout=30) as response:
        again = [(e.event, json.loads(e.data)) for e in EventSource(response).iter_sse()]
    assert [kind for kind, _ in again] == ["delta"] * (len(deltas) - 1) + ["done"]


def test_cancel_of_a_running_execution_ends_cancelled(stack: Stack) -> None:
    if not stack.worker.running:
        stack.worker.start()
    text = f"slow one {stack.stamp}"
    stack.upstream.delay = 3.0
    try:
        execution_id = stack.submit(stack.agent(), text)
        eventually(lambda: stack.upstream.count(text) == 1, 10, "the call reached the upstream")
        assert stack.get(execution_id)["status"] == "running"
        cancelled_at = time.monotonic()
        answered = stack.cancel(execution_id)
        assert answered["status"] in ("running", "cancelled") and answered["cancel_requested"]
        row = stack.finished(execution_id, seconds=10)
        stopped_after = time.monotonic() - cancelled_at
    finally:
        stack.upstream.delay = 0.0
    assert (row["status"], row["output"]) == ("cancelled", None)
    assert stopped_after < 2.5, stopped_after  # the next heartbeat, not the 3 s answer
    time.sleep(1.5)  # and it stays cancelled: nothing requeues or records it later
    assert stack.get(execution_id)["status"] == "cancelled"
    assert stack.upstream.count(text) == 1


@dataclass
class CrashOutcome:
    rows: list[Json]
    upstream_calls: Counter[str]
    texts: list[str]


@pytest.fixture(scope="module")
def crash(stack: Stack) -> CrashOutcome:
    """CRASH_EXECUTIONS queued, then a worker SIGKILLed at 2 random moments and restarted."""
    stack.worker.stop()
    stack.upstream.delay = 0.1  # each run takes a while: kills land mid-call
    agent = stack.agent()
    texts = [f"crash {i} {stack.stamp}" for i in range(CRASH_EXECUTIONS)]
    with httpx.Client() as client:
        ids = [stack.submit(agent, text, client) for text in texts]

    def done() -> int:
        return len(stack.listed(agent, "success"))

    seed = random.randrange(2**32)
    rng = random.Random(seed)
    stack.worker.start()
    for _ in range(2):
        target = min(done() + rng.randint(10, 60), CRASH_EXECUTIONS - 40)
        eventually(lambda: done() >= target, 30, f"{target} successes")  # noqa: B023
        stack.worker.kill()
        stack.worker.start()
    try:
        eventually(lambda: done() == CRASH_EXECUTIONS, 20, "every execution succeeded")
    except AssertionError:
        pass  # the tests below tell what is missing
    finally:
        stack.upstream.delay = 0.0
    rows = stack.listed(agent)
    assert sorted(r["id"] for r in rows) == sorted(ids)
    calls = Counter({t: stack.upstream.count(t) for t in texts})
    repeated = sum(1 for n in calls.values() if n > 1)
    states = Counter(r["status"] for r in rows)
    attempts = Counter(r["attempts"] for r in rows)
    print(
        f"\ncrash test (seed {seed}): {CRASH_EXECUTIONS} executions, "
        f"{sum(calls.values())} upstream calls ({repeated} executions called more than once); "
        f"statuses {dict(states)}; "
        f"attempts {dict(sorted(attempts.items()))}"
    )
    return CrashOutcome(rows, calls, texts)


def test_crash_no_execution_is_lost_stuck_running_or_recorded_twice(crash: CrashOutcome) -> None:
    states = Counter(r["status"] for r in crash.rows)
    assert set(states) <= {"success", "queued"}, states  # never failed, timed out or stuck
    # A run the kill interrupted was requeued by the reaper and finished by the new worker;
    # what is still queued never started (see the next test).
    assert any(r["attempts"] >= 2 and r["status"] == "success" for r in crash.rows)
    assert all(r["attempts"] == 0 for r in crash.rows if r["status"] == "queued")
    for row in crash.rows:  # each its own single result
        if row["status"] == "success":
            assert row["output"] == f"echo: {row['input']}"
            assert row["usage"]["total_tokens"] > 0 and row["finished_at"]
            assert crash.upstream_calls[row["input"]] >= 1
    assert len({r["id"] for r in crash.rows}) == CRASH_EXECUTIONS


# Not strict: Dramatiq's own maintenance (0.1 % of broker commands) sometimes hands the
# killed worker's prefetched messages back in time; most runs it does not. The root cause is
# pinned down deterministically in tests/integration/test_queue_on_redis.py.
def test_crash_every_execution_succeeds_soon_after_the_last_restart(crash: CrashOutcome) -> None:
    late = [r["input"] for r in crash.rows if r["status"] != "success"]
    assert late == [], f"{len(late)} not finished 20 s after the last restart"
