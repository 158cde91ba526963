"""The Dramatiq adapter on Dramatiq's StubBroker: thin actors, retry policy, dead letters,
and the job queue that sends messages by name."""

import asyncio
import uuid
from collections.abc import Iterator

import pytest
import redis
from dramatiq import Message, Worker
from dramatiq.brokers.stub import StubBroker
from dramatiq.middleware import AsyncIO

from adapters.dramatiq_queue import actors
from adapters.dramatiq_queue.actors import PermanentError, declare_run_execution
from adapters.dramatiq_queue.broker import EXECUTIONS_QUEUE, RUN_EXECUTION, make_broker
from adapters.dramatiq_queue.queue import DramatiqJobQueue
from application.errors import QueueUnavailable
from tests.support.processes import free_port

Call = tuple[uuid.UUID, uuid.UUID]


class Handler:
    """Records its calls; raises `failures` (one per call) before it starts succeeding."""

    def __init__(self, *failures: Exception) -> None:
        self.calls: list[Call] = []
        self.loops: set[int] = set()
        self._failures = list(failures)

    async def __call__(self, execution_id: uuid.UUID, tenant_id: uuid.UUID) -> None:
        self.loops.add(id(asyncio.get_running_loop()))
        self.calls.append((execution_id, tenant_id))
        if self._failures:
            raise self._failures.pop(0)


@pytest.fixture
def broker() -> StubBroker:
    stub = StubBroker()
    stub.add_middleware(AsyncIO())
    return stub


@pytest.fixture
def fast_backoff(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(actors, "MIN_BACKOFF_MS", 5)
    monkeypatch.setattr(actors, "MAX_BACKOFF_MS", 20)


@pytest.fixture
def worker(broker: StubBroker) -> Iterator[Worker]:
    started = Worker(broker, worker_timeout=50, worker_threads=2)
    yield started
    started.stop()


def drain(broker: StubBroker, worker: Worker) -> None:
    if not worker.consumers:
        worker.start()
    broker.join(EXECUTIONS_QUEUE, timeout=10_000, fail_fast=False)
    worker.join()


def test_the_actor_calls_the_handler_with_uuids_on_an_event_loop(
    broker: StubBroker, worker: Worker
) -> None:
    handler = Handler()
    actor = declare_run_execution(broker, handler)
    ids = [(uuid.uuid4(), uuid.uuid4()) for _ in range(3)]
    for execution_id, tenant_id in ids:
        actor.send(str(execution_id), str(tenant_id))
    drain(broker, worker)
    assert sorted(handler.calls) == sorted(ids)
    assert all(isinstance(part, uuid.UUID) for call in handler.calls for part in call)
    assert len(handler.loops) == 1  # the AsyncIO middleware's one loop
    assert broker.dead_letters == []


def test_the_actor_states_its_retry_policy(broker: StubBroker) -> None:
    actor = declare_run_execution(broker, Handler())
    assert (actor.actor_name, actor.queue_name) == (RUN_EXECUTION, EXECUTIONS_QUEUE)
    options = actor.options
    assert 0 < options["max_retries"] <= 5
    assert 0 < options["min_backoff"] <= options["max_backoff"] <= 3_600_000
    assert options["time_limit"] > 60_000  # longer than one gateway call's timeout
    assert PermanentError in options["throws"]


@pytest.mark.parametrize(
    "args",
    [("not-a-uuid", str(uuid.uuid4())), (str(uuid.uuid4()), None), (42, str(uuid.uuid4()))],
)
def test_malformed_ids_are_dead_lettered_without_retries(
    broker: StubBroker, worker: Worker, args: tuple[object, object]
) -> None:
    handler = Handler()
    actor = declare_run_execution(broker, handler)
    actor.send(*args)
    drain(broker, worker)
    assert handler.calls == []
    [dead] = broker.dead_letters
    assert dead.options.get("retries", 0) == 0
    assert isinstance(dead._exception, PermanentError)


@pytest.mark.usefixtures("fast_backoff")
@pytest.mark.parametrize(
    ("args", "kwargs"),
    [((str(uuid.uuid4()),), {}), ((str(uuid.uuid4()), str(uuid.uuid4())), {"extra": 1})],
)
def test_a_message_with_the_wrong_arguments_is_dead_lettered_without_retries(
    broker: StubBroker, worker: Worker, args: tuple[str, ...], kwargs: dict[str, object]
) -> None:
    handler = Handler()
    actor = declare_run_execution(broker, handler)
    actor.send_with_options(args=args, kwargs=kwargs)
    drain(broker, worker)
    [dead] = broker.dead_letters
    assert dead.options.get("retries", 0) == 0


@pytest.mark.usefixtures("fast_backoff")
def test_a_transient_error_is_retried_until_it_succeeds(broker: StubBroker, worker: Worker) -> None:
    handler = Handler(ConnectionError("db blip"), TimeoutError("slow"))
    actor = declare_run_execution(broker, handler)
    assert actor.options["max_backoff"] == 20
    execution_id, tenant_id = uuid.uuid4(), uuid.uuid4()
    actor.send(str(execution_id), str(tenant_id))
    drain(broker, worker)
    assert handler.calls == [(execution_id, tenant_id)] * 3
    assert broker.dead_letters == []


@pytest.mark.usefixtures("fast_backoff")
def test_retries_are_bounded_then_the_message_is_dead_lettered(
    broker: StubBroker, worker: Worker
) -> None:
    handler = Handler(*[RuntimeError(f"boom {n}") for n in range(20)])
    actor = declare_run_execution(broker, handler)
    actor.send(str(uuid.uuid4()), str(uuid.uuid4()))
    drain(broker, worker)
    [dead] = broker.dead_letters
    assert len(handler.calls) == actors.MAX_RETRIES + 1  # the first try, then the retries
    assert dead.options["retries"] == len(handler.calls)  # Dramatiq counts failed tries


def test_the_job_queue_sends_run_execution_with_string_ids(broker: StubBroker) -> None:
    broker.declare_queue(EXECUTIONS_QUEUE)  # the API process declares no actor
    execution_id, tenant_id = uuid.uuid4(), uuid.uuid4()
    asyncio.run(DramatiqJobQueue(broker).enqueue_execution(execution_id, tenant_id))
    queued = broker.queues[EXECUTIONS_QUEUE]
    assert queued.qsize() == 1
    message = Message.decode(queued.get_nowait())
    assert (message.queue_name, message.actor_name) == (EXECUTIONS_QUEUE, RUN_EXECUTION)
    assert message.args == (str(execution_id), str(tenant_id))
    assert message.kwargs == {}


def test_a_message_from_the_job_queue_reaches_the_handler(
    broker: StubBroker, worker: Worker
) -> None:
    handler = Handler()
    declare_run_execution(broker, handler)
    execution_id, tenant_id = uuid.uuid4(), uuid.uuid4()
    asyncio.run(DramatiqJobQueue(broker).enqueue_execution(execution_id, tenant_id))
    drain(broker, worker)
    assert handler.calls == [(execution_id, tenant_id)]


class RefusingBroker(StubBroker):
    def enqueue(self, message: Message[object], *, delay: int | None = None) -> Message[object]:
        raise redis.ConnectionError("Connection refused")


async def test_a_broker_that_refuses_is_queue_unavailable() -> None:
    with pytest.raises(QueueUnavailable):
        await DramatiqJobQueue(RefusingBroker()).enqueue_execution(uuid.uuid4(), uuid.uuid4())


async def test_an_unreachable_redis_is_queue_unavailable() -> None:
    nobody = make_broker(f"redis://127.0.0.1:{free_port()}/15", socket_connect_timeout=1)
    assert any(isinstance(m, AsyncIO) for m in nobody.middleware)
    with pytest.raises(QueueUnavailable):
        await DramatiqJobQueue(nobody).enqueue_execution(uuid.uuid4(), uuid.uuid4())
