import uuid

from adapters.in_memory.repositories import paged
from adapters.in_memory.tables import Tables
from application.ports.page import Page
from domain.errors import NotFound
from domain.execution import Execution, ExecutionStatus


class InMemoryExecutionRepository:
    def __init__(self, tables: Tables) -> None:
        self._t = tables

    async def add(self, execution: Execution) -> None:
        self._t.require_tenant(execution.tenant_id)
        self._t.executions.put(execution)

    async def get(self, execution_id: uuid.UUID) -> Execution | None:
        return self._t.executions.get(execution_id)

    async def update(self, execution: Execution) -> None:
        if self._t.executions.get(execution.id) is None:
            raise NotFound("Execution")
        self._t.executions.put(execution)

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
