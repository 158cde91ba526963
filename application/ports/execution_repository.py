import uuid
from datetime import datetime
from typing import Protocol

from application.ports.page import Page
from domain.execution import Execution, ExecutionStatus


class ExecutionRepository(Protocol):
    """Executions visible in the unit of work's scope."""

    async def add(self, execution: Execution) -> None:
        """NotFound('Tenant') if the tenant does not exist: raised here or, at the latest,
        by the unit of work's next statement or commit (an adapter may send the INSERT with
        them, in one round trip)."""

    async def get(self, execution_id: uuid.UUID) -> Execution | None: ...

    async def update(self, execution: Execution) -> None:
        """NotFound('Execution') if it does not exist (in scope): raised here or, at the
        latest, by the next statement or commit, which then commits nothing."""
        ...

    async def claim(
        self, execution_id: uuid.UUID, worker: str, now: datetime, lease_until: datetime
    ) -> Execution | None:
        """Atomically take a queued, not-cancelled execution for `worker`; None if it is
        not queued any more (finished, cancelled, or another worker has it)."""
        ...

    async def renew_lease(
        self, execution_id: uuid.UUID, worker: str, lease_until: datetime
    ) -> Execution | None:
        """Extend the lease if `worker` still holds the execution; None if it lost it. The
        returned row tells the worker whether a cancel was requested."""
        ...

    async def finish(self, execution: Execution, worker: str) -> None:
        """Store a finished run only if `worker` still holds it (first writer wins); if it
        does not, LeaseLost, raised here or by the next statement or commit (which then
        commits nothing)."""
        ...

    async def request_cancel(self, execution_id: uuid.UUID, now: datetime) -> Execution | None:
        """Atomically: queued -> cancelled, running -> cancel_requested; None if finished."""
        ...

    async def count_by_status(self) -> dict[str, int]:
        """Visible executions per status (for metrics)."""
        ...

    async def due(self, now: datetime, limit: int) -> list[Execution]:
        """Queued or running executions whose lease time has passed (for the reaper)."""
        ...

    async def list(
        self,
        tenant_id: uuid.UUID | None,
        page: Page,
        agent_id: uuid.UUID | None = None,
        status: ExecutionStatus | None = None,
    ) -> list[Execution]:
        """Newest first."""
        ...
