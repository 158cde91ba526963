import uuid
from typing import Protocol

from application.ports.page import Page
from domain.execution import Execution, ExecutionStatus


class ExecutionRepository(Protocol):
    """Executions visible in the unit of work's scope."""

    async def add(self, execution: Execution) -> None:
        """NotFound('Tenant') if the tenant does not exist."""

    async def get(self, execution_id: uuid.UUID) -> Execution | None: ...

    async def update(self, execution: Execution) -> None: ...

    async def list(
        self,
        tenant_id: uuid.UUID | None,
        page: Page,
        agent_id: uuid.UUID | None = None,
        status: ExecutionStatus | None = None,
    ) -> list[Execution]:
        """Newest first."""
        ...
