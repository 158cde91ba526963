import uuid
from datetime import datetime

from adapters.in_memory.repositories import paged
from adapters.in_memory.tables import Tables
from application.ports.page import Page
from domain.errors import LeaseLost, NotFound
from domain.execution import Execution, ExecutionStatus


class InMemoryExecutionRepository:
    def __init__(self, tables: Tables) -> None:
        self._t = tables

    async def add(self, execution: Execution) -> None:
        self._t.require_tenant(execution.tenant_id)
        self._t.executions.put(execution)

    async def get(self, execution_id: uuid.UUID) -> Execution | None:
        return self._t.executions.get(execution_id)

    def _put_keeping_cancel(self, execution: Execution, stored: Execution) -> None:
        # Like the SQL side: only request_cancel() writes the flag; a stale copy cannot clear it.
        execution.cancel_requested = stored.cancel_requested
        self._t.executions.put(execution)

    async def update(self, execution: Execution) -> None:
        stored = self._t.executions.get(execution.id)
        if stored is None:
            raise NotFound("Execution")
        self._put_keeping_cancel(execution, stored)

    async def claim(
        self, execution_id: uuid.UUID, worker: str, now: datetime, lease_until: datetime
    ) -> Execution | None:
        execution = self._t.executions.get(execution_id)
        if execution is None or execution.status is not ExecutionStatus.QUEUED:
            return None
        if execution.cancel_requested:
            return None
        execution.claim(worker, now, lease_until)
        self._t.executions.put(execution)
        return execution

    def _held(self, execution_id: uuid.UUID, worker: str) -> Execution | None:
        execution = self._t.executions.get(execution_id)
        if execution is None or execution.status is not ExecutionStatus.RUNNING:
            return None
        return execution if execution.claimed_by == worker else None

    async def renew_lease(
        self, execution_id: uuid.UUID, worker: str, lease_until: datetime
    ) -> Execution | None:
        execution = self._held(execution_id, worker)
        if execution is not None:
            execution.lease_expires_at = lease_until
            self._t.executions.put(execution)
        return execution

    async def finish(self, execution: Execution, worker: str) -> None:
        stored = self._held(execution.id, worker)
        if stored is None:
            raise LeaseLost()
        self._put_keeping_cancel(execution, stored)

    async def request_cancel(self, execution_id: uuid.UUID, now: datetime) -> Execution | None:
        execution = self._t.executions.get(execution_id)
        if execution is None or execution.is_finished:
            return None
        execution.request_cancel(now)
        self._t.executions.put(execution)
        return execution

    async def count_by_status(self) -> dict[str, int]:
        counts: dict[str, int] = {}
        for execution in self._t.executions.rows():
            counts[execution.status.value] = counts.get(execution.status.value, 0) + 1
        return counts

    async def due(self, now: datetime, limit: int) -> list[Execution]:
        waiting = (ExecutionStatus.QUEUED, ExecutionStatus.RUNNING)
        rows = [
            e
            for e in self._t.executions.rows()
            if e.status in waiting and e.lease_expires_at is not None and e.lease_expires_at < now
        ]
        return sorted(rows, key=lambda e: e.lease_expires_at or now)[:limit]

    async def list(
        self,
        tenant_id: uuid.UUID | None,
        page: Page,
        agent_id: uuid.UUID | None = None,
        status: ExecutionStatus | None = None,
    ) -> list[Execution]:
        rows = [
            e
            for e in self._t.executions.rows()
            if (tenant_id is None or e.tenant_id == tenant_id)
            and (agent_id is None or e.agent_id == agent_id)
            and (status is None or e.status == status)
        ]
        rows.sort(key=lambda e: (e.created_at, str(e.id)), reverse=True)
        return paged(rows, page)
