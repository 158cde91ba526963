"""`ExecutionEventLog` in process memory, for tests and single-process use: the same ids
(`<n>-0`, increasing) and the same replay and waiting behaviour as the Redis log."""

import asyncio
import re
import uuid
from collections.abc import AsyncIterator, Mapping

from application.ports.execution_events import EventKind, ExecutionEvent

_ID = re.compile(r"(\d+)-(\d+)")


class InMemoryExecutionEvents:
    def __init__(self) -> None:
        self._events: dict[uuid.UUID, list[ExecutionEvent]] = {}
        self._signals: dict[uuid.UUID, asyncio.Event] = {}
        self._seq = 0

    async def publish(
        self, execution_id: uuid.UUID, kind: EventKind, data: Mapping[str, object]
    ) -> None:
        self._seq += 1
        event = ExecutionEvent(kind, dict(data), f"{self._seq}-0")
        self._events.setdefault(execution_id, []).append(event)
        signal = self._signals.pop(execution_id, None)
        if signal is not None:
            signal.set()

    def _after(self, execution_id: uuid.UUID, after: str | None) -> int:
        events = self._events.get(execution_id, [])
        matched = _ID.fullmatch(after or "")
        if matched is None:
            return 0
        seq = int(matched.group(1))
        return next((i for i, e in enumerate(events) if int(e.id.split("-")[0]) > seq), len(events))

    async def follow(
        self, execution_id: uuid.UUID, after: str | None, wait_s: float
    ) -> AsyncIterator[ExecutionEvent | None]:
        position = self._after(execution_id, after)
        while True:
            events = self._events.get(execution_id, [])
            if position < len(events):
                position += 1
                yield events[position - 1]
                continue
            signal = self._signals.setdefault(execution_id, asyncio.Event())
            if wait_s <= 0:
                yield None
                continue
            try:
                await asyncio.wait_for(signal.wait(), wait_s)
            except TimeoutError:
                yield None
