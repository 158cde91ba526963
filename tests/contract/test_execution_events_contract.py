"""The same suite against every `ExecutionEventLog`: in memory and on Redis streams.
Replay from the start or after an id, live delivery to a waiting follower, heartbeats,
separate executions, and a Redis that cannot be reached (publishing never raises)."""

import asyncio
import uuid
from collections.abc import AsyncIterator, Iterator

import pytest

from adapters.in_memory.execution_events import InMemoryExecutionEvents
from adapters.redis_events.log import RedisExecutionEvents
from application.ports.execution_events import ExecutionEvent, ExecutionEventLog
from tests.support.processes import free_port
from tests.support.redis import redis_url


@pytest.fixture(scope="module")
def redis_base() -> Iterator[str]:
    with redis_url() as url:
        yield url


@pytest.fixture(params=["in_memory", "redis"])
async def log(request: pytest.FixtureRequest) -> AsyncIterator[ExecutionEventLog]:
    if request.param == "in_memory":
        yield InMemoryExecutionEvents()
        return
    events = RedisExecutionEvents(request.getfixturevalue("redis_base"))
    yield events
    await events.aclose()


async def _take(log: ExecutionEventLog, eid: uuid.UUID, after: str | None, n: int) -> list:  # type: ignore[type-arg]
    got: list[ExecutionEvent | None] = []
    async for item in log.follow(eid, after, 0.05):
        got.append(item)
        if len(got) == n:
            break
    return got


async def test_events_replay_in_order_with_increasing_ids(log: ExecutionEventLog) -> None:
    eid = uuid.uuid4()
    await log.publish(eid, "status", {"status": "running"})
    await log.publish(eid, "delta", {"content": "a"})
    await log.publish(eid, "done", {"status": "success", "usage": {"total_tokens": 3}})
    events = await _take(log, eid, None, 3)
    assert [(e.kind, dict(e.data)) for e in events] == [
        ("status", {"status": "running"}),
        ("delta", {"content": "a"}),
        ("done", {"status": "success", "usage": {"total_tokens": 3}}),
    ]
    ids = [e.id for e in events]
    assert all(ids) and len(set(ids)) == 3
    assert [tuple(map(int, i.split("-"))) for i in ids] == sorted(
        tuple(map(int, i.split("-"))) for i in ids
    )


async def test_after_an_id_only_later_events_come(log: ExecutionEventLog) -> None:
    eid = uuid.uuid4()
    for n in range(4):
        await log.publish(eid, "delta", {"content": str(n)})
    first_two = await _take(log, eid, None, 2)
    rest = await _take(log, eid, first_two[-1].id, 3)
    assert [e.data["content"] for e in rest[:2]] == ["2", "3"]
    assert rest[2] is None  # nothing more: a heartbeat


@pytest.mark.parametrize("after", ["garbage", "", "1-x"])
async def test_an_id_not_of_the_log_replays_from_the_start(
    log: ExecutionEventLog, after: str
) -> None:
    eid = uuid.uuid4()
    await log.publish(eid, "delta", {"content": "x"})
    [event] = await _take(log, eid, after, 1)
    assert event is not None and event.data == {"content": "x"}


async def test_a_waiting_follower_gets_new_events_as_published(log: ExecutionEventLog) -> None:
    eid = uuid.uuid4()
    seen: list[ExecutionEvent] = []

    async def follow() -> None:
        async for item in log.follow(eid, None, 5.0):
            if item is not None:
                seen.append(item)
                if item.kind == "done":
                    return

    task = asyncio.create_task(follow())
    await asyncio.sleep(0.1)
    await log.publish(eid, "delta", {"content": "live"})
    for _ in range(100):
        if seen:
            break
        await asyncio.sleep(0.01)
    assert [e.data for e in seen] == [{"content": "live"}]
    await log.publish(eid, "done", {"status": "success"})
    await asyncio.wait_for(task, timeout=5)


async def test_nothing_new_within_the_wait_is_a_heartbeat(log: ExecutionEventLog) -> None:
    assert await _take(log, uuid.uuid4(), None, 2) == [None, None]


async def test_executions_do_not_see_each_others_events(log: ExecutionEventLog) -> None:
    mine, theirs = uuid.uuid4(), uuid.uuid4()
    await log.publish(theirs, "delta", {"content": "theirs"})
    await log.publish(mine, "delta", {"content": "mine"})
    events = await _take(log, mine, None, 2)
    assert events[0] is not None and events[0].data == {"content": "mine"}
    assert events[1] is None


async def test_publishing_to_an_unreachable_redis_does_not_raise() -> None:
    events = RedisExecutionEvents(f"redis://127.0.0.1:{free_port()}/0")
    await events.publish(uuid.uuid4(), "delta", {"content": "lost"})
    [heartbeat] = await _take(events, uuid.uuid4(), None, 1)
    assert heartbeat is None
    await events.aclose()
