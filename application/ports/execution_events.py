"""What happens to an execution, as events a client can follow live and replay.

The worker publishes a run's status changes and output deltas; `follow` replays the
events after a given id, then waits for new ones. Ids are opaque strings, increasing in
publication order, usable as SSE `Last-Event-ID`. Events are kept for a while (an hour
in Redis), not forever: the database stays the record of the execution.
"""

import asyncio
import uuid
from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass, field
from typing import Literal, Protocol

EventKind = Literal["status", "delta", "done"]


@dataclass(frozen=True, slots=True)
class ExecutionEvent:
    kind: EventKind
    data: Mapping[str, object]  # JSON-ready: str, int, float, bool, None, nested mappings
    id: str = field(default="")  # set by the log


class ExecutionEventLog(Protocol):
    async def publish(
        self, execution_id: uuid.UUID, kind: EventKind, data: Mapping[str, object]
    ) -> None:
        """Best effort: a log that cannot be reached must not fail the run (adapters log
        and drop), since followers also re-read the execution itself."""

    def follow(
        self, execution_id: uuid.UUID, after: str | None, wait_s: float
    ) -> AsyncIterator[ExecutionEvent | None]:
        """The events after `after` (None: from the first), then new ones as they come;
        `None` each time `wait_s` passes with nothing new (0: do not wait at all). Ends
        only when the consumer stops. `after` not of the log's id form: from the first."""
        ...


class NoExecutionEvents:
    """Publishes nowhere, follows nothing: for processes that serve no event stream."""

    async def publish(
        self, execution_id: uuid.UUID, kind: EventKind, data: Mapping[str, object]
    ) -> None:
        return None

    async def follow(
        self, execution_id: uuid.UUID, after: str | None, wait_s: float
    ) -> AsyncIterator[ExecutionEvent | None]:
        while True:
            await asyncio.sleep(wait_s)
            yield None
