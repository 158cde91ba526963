"""Following an execution: its status changes and output deltas as server-sent events.

The caller gets the execution's current state first (from the database), then the events
the worker published (replayed from the start, or after `Last-Event-ID` on a reconnect),
until the `done` event. Every `heartbeat_s` without an event the execution is read again:
a run that ended without an event reaching the log (cancelled while queued, reaped, the
log unreachable) still ends the stream, with a `done` built from the database.
"""

import uuid
from collections.abc import AsyncIterator

from application.ports.execution_events import ExecutionEvent, ExecutionEventLog
from application.ports.unit_of_work import UnitOfWorkFactory
from domain.execution import Execution, ExecutionStatus
from domain.principal import Principal

HEARTBEAT_S = 5.0
STATUSES = frozenset(status.value for status in ExecutionStatus)


def status_data(e: Execution) -> dict[str, object]:
    return {"execution_id": str(e.id), "status": e.status.value, "attempts": e.attempts}


def done_data(e: Execution) -> dict[str, object]:
    u = e.usage
    usage = (
        None
        if u is None
        else {
            "prompt_tokens": u.prompt_tokens,
            "completion_tokens": u.completion_tokens,
            "total_tokens": u.total_tokens,
        }
    )
    return {
        "execution_id": str(e.id),
        "status": e.status.value,
        "output": e.output,
        "error": e.error,
        "model": e.model,
        "usage": usage,
        "cost": e.cost,
        "latency_ms": e.latency_ms,
    }


class FollowExecution:
    def __init__(
        self,
        uow_factory: UnitOfWorkFactory,
        events: ExecutionEventLog,
        heartbeat_s: float = HEARTBEAT_S,
    ) -> None:
        self._uow_factory, self._events, self._heartbeat = uow_factory, events, heartbeat_s

    async def _reread(self, principal: Principal, execution_id: uuid.UUID) -> Execution | None:
        async with self._uow_factory() as uow:
            await uow.scope_to(principal)
            return await uow.executions.get(execution_id)

    async def __call__(
        self, principal: Principal, execution: Execution, last_event_id: str | None
    ) -> AsyncIterator[ExecutionEvent | None]:
        """Events to send (an empty `id`: not replayable, from the database), and None
        for a heartbeat. `execution` was read, and its access checked, by the caller."""
        known = execution.status
        if last_event_id is None:
            yield ExecutionEvent("status", status_data(execution))
            if execution.is_finished:
                yield ExecutionEvent("done", done_data(execution))
                return
        wait = 0.0 if execution.is_finished else self._heartbeat
        async for event in self._events.follow(execution.id, last_event_id, wait):
            if event is not None:
                yield event
                if event.kind == "done":
                    return
                if event.kind == "status" and event.data.get("status") in STATUSES:
                    known = ExecutionStatus(str(event.data["status"]))
                continue
            current = await self._reread(principal, execution.id) or execution
            if current.status is not known:
                known = current.status
                yield ExecutionEvent("status", status_data(current))
            if current.is_finished:
                yield ExecutionEvent("done", done_data(current))
                return
            yield None
