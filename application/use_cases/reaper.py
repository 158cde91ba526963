"""Nothing stays queued or running forever: the reaper finds executions whose lease time
passed and enqueues them again, or ends them `timed_out` once they used up their tries."""

import logging
import uuid
from dataclasses import dataclass
from datetime import timedelta

from application.errors import QueueUnavailable
from application.ports.clock import Clock
from application.ports.job_queue import JobQueue
from application.ports.unit_of_work import UnitOfWorkFactory
from application.use_cases.queued_executions import REQUEUE_AFTER
from domain.execution import ExecutionStatus
from domain.principal import CONSOLE_OPERATOR

log = logging.getLogger("agentkeel.reaper")
MAX_ATTEMPTS = 3


@dataclass(frozen=True, slots=True)
class ReapReport:
    requeued: int
    timed_out: int


class ReapExecutions:
    def __init__(
        self,
        uow_factory: UnitOfWorkFactory,
        queue: JobQueue,
        clock: Clock,
        requeue_after: timedelta = REQUEUE_AFTER,
        batch: int = 500,
    ) -> None:
        self._uow_factory, self._queue, self._clock = uow_factory, queue, clock
        self._requeue_after, self._batch = requeue_after, batch

    async def __call__(self) -> ReapReport:
        now = self._clock.now()
        to_enqueue: list[tuple[uuid.UUID, uuid.UUID]] = []
        timed_out = 0
        async with self._uow_factory() as uow:
            await uow.scope_to(CONSOLE_OPERATOR)
            for execution in await uow.executions.due(now, self._batch):
                lost_worker = execution.status is ExecutionStatus.RUNNING
                if lost_worker and execution.attempts >= MAX_ATTEMPTS:
                    execution.fail(
                        f"No worker finished it in {execution.attempts} tries", now, timed_out=True
                    )
                    timed_out += 1
                else:
                    execution.requeue(now + self._requeue_after)
                    to_enqueue.append((execution.id, execution.tenant_id))
                await uow.executions.update(execution)
            await uow.commit()
        for execution_id, tenant_id in to_enqueue:
            try:
                await self._queue.enqueue_execution(execution_id, tenant_id)
            except QueueUnavailable:
                log.warning("broker unavailable; %s stays queued for the next pass", execution_id)
                break
        if to_enqueue or timed_out:
            log.info("reaper: %d requeued, %d timed out", len(to_enqueue), timed_out)
        return ReapReport(len(to_enqueue), timed_out)
