"""DeltaRelay: a queued run's deltas reach its event log in order, at once when the log is
free, joined when they come while a publish is still out, and all before `flush` returns."""

import asyncio
import uuid
from collections.abc import AsyncIterator, Mapping

from application.ports.execution_events import EventKind, ExecutionEvent
from application.use_cases.delta_relay import DeltaRelay


class SlowLog:
    """Each publish waits until the test lets it through."""

    def __init__(self) -> None:
        self.published: list[str] = []
        self.gate = asyncio.Event()

    async def publish(
        self, execution_id: uuid.UUID, kind: EventKind, data: Mapping[str, object]
    ) -> None:
        await self.gate.wait()
        self.published.append(str(data["content"]))

    def follow(
        self, execution_id: uuid.UUID, after: str | None, wait_s: float
    ) -> AsyncIterator[ExecutionEvent | None]:
        raise NotImplementedError


async def test_deltas_that_come_while_a_publish_is_out_go_together_in_order() -> None:
    log = SlowLog()
    relay = DeltaRelay(log, uuid.uuid4())
    relay.add("one ")
    await asyncio.sleep(0)  # the first publish is out, held at the gate
    relay.add("two ")
    relay.add("three")
    log.gate.set()
    await relay.flush()
    assert log.published == ["one ", "two three"]


async def test_a_free_log_gets_each_delta_on_its_own() -> None:
    log = SlowLog()
    log.gate.set()
    relay = DeltaRelay(log, uuid.uuid4())
    for word in ("a ", "b ", "c"):
        relay.add(word)
        await asyncio.sleep(0.01)
    await relay.flush()
    assert log.published == ["a ", "b ", "c"]


async def test_cancel_drops_what_is_not_published() -> None:
    log = SlowLog()
    relay = DeltaRelay(log, uuid.uuid4())
    relay.add("never")
    await asyncio.sleep(0)
    relay.cancel()
    log.gate.set()
    await asyncio.sleep(0.01)
    assert log.published == []
    await relay.flush()  # nothing left to wait for
