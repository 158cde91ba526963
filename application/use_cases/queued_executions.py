"""Queued executions at the API: submit (idempotently) and cancel."""

import asyncio
import hashlib
import json
import logging
import uuid
from dataclasses import dataclass
from datetime import timedelta

from application.errors import QueueUnavailable
from application.ports.idempotency_repository import IdempotencyRecord
from application.ports.job_queue import JobQueue
from application.ports.unit_of_work import UnitOfWork
from application.use_cases.agents import GetAgent
from application.use_cases.callbacks import CallbackPlanner
from application.use_cases.executions import GetExecution, route_for
from application.use_cases.services import LlmServices
from domain.errors import Conflict, InvalidValue
from domain.execution import AgentSnapshot, Execution
from domain.ids import new_id
from domain.principal import Principal

log = logging.getLogger("agentkeel.executions")
IDEMPOTENCY_TTL = timedelta(hours=24)
# A queued execution no worker has taken by then is enqueued again by the reaper.
REQUEUE_AFTER = timedelta(minutes=1)


@dataclass(frozen=True, slots=True)
class Submission:
    agent_id: uuid.UUID
    input: str
    callback_url: str | None = None
    idempotency_key: str | None = None

    def fingerprint(self) -> str:
        body = {
            "agent_id": str(self.agent_id),
            "input": self.input,
            "callback_url": self.callback_url,
        }
        return hashlib.sha256(json.dumps(body, sort_keys=True).encode()).hexdigest()


@dataclass(frozen=True, slots=True)
class Submitted:
    execution: Execution
    replayed: bool  # True: the same Idempotency-Key and body were seen before


class SubmitExecution:
    def __init__(
        self,
        uow: UnitOfWork,
        services: LlmServices,
        queue: JobQueue,
        requeue_after: timedelta = REQUEUE_AFTER,
        callbacks: CallbackPlanner | None = None,
    ) -> None:
        self._uow, self._s, self._queue = uow, services, queue
        self._requeue_after, self._callbacks = requeue_after, callbacks

    async def __call__(self, principal: Principal, submission: Submission) -> Submitted:
        if submission.callback_url is not None and self._callbacks is not None:
            await self._callbacks.check(submission.callback_url)  # 422 before anything
        agent = await GetAgent(self._uow)(principal, submission.agent_id)
        now = self._s.clock.now()
        key = submission.idempotency_key
        if key is not None:
            if not await self._uow.idempotency.lock(agent.tenant_id, key):
                raise Conflict("A request with this Idempotency-Key is still in flight")
            seen = await self._uow.idempotency.get(agent.tenant_id, key, now)
            if seen is not None:
                if seen.request_sha256 != submission.fingerprint():
                    raise InvalidValue(
                        "Idempotency-Key", "was already used with another body", "header"
                    )
                first = await GetExecution(self._uow)(principal, seen.execution_id)
                return Submitted(first, replayed=True)
        if not agent.is_runnable:
            raise Conflict(f"Agent is {agent.status.value}; only active agents run")
        _, _, provider_id = await route_for(self._uow, self._s.box, agent)  # 400 early
        execution = Execution(
            id=new_id(),
            tenant_id=agent.tenant_id,
            agent_id=agent.id,
            input=submission.input,
            snapshot=AgentSnapshot.of(agent, provider_id),
            created_at=now,
            callback_url=submission.callback_url,
            lease_expires_at=now + self._requeue_after,
        )
        await self._uow.executions.add(execution)
        if execution.callback_url is not None and self._callbacks is not None:
            await self._callbacks.plan(self._uow, execution)
        if key is not None:
            await self._uow.idempotency.put(
                IdempotencyRecord(
                    agent.tenant_id,
                    key,
                    submission.fingerprint(),
                    execution.id,
                    now,
                    now + IDEMPOTENCY_TTL,
                )
            )
        await self._uow.commit()
        try:  # after commit: a worker must find the row the message names
            await self._queue.enqueue_execution(execution.id, execution.tenant_id)
        except QueueUnavailable:
            log.warning(
                "broker unavailable; execution %s will be enqueued by the reaper", execution.id
            )
        return Submitted(execution, replayed=False)


class CancelExecution:
    """A queued execution is cancelled at once (it will never run); a running one is
    flagged, and its worker stops it at the next heartbeat: the answer waits for that, up
    to `wait`. Finished ones are unchanged."""

    def __init__(
        self, uow: UnitOfWork, services: LlmServices, wait: timedelta = timedelta(seconds=5)
    ) -> None:
        self._uow, self._s, self._wait = uow, services, wait

    async def __call__(self, principal: Principal, execution_id: uuid.UUID) -> Execution:
        execution = await GetExecution(self._uow)(principal, execution_id)
        if execution.is_finished:
            return execution
        # One conditional statement, not read-modify-write: a worker may finish meanwhile.
        changed = await self._uow.executions.request_cancel(execution_id, self._s.clock.now())
        await self._uow.commit()
        current = changed or execution
        deadline = asyncio.get_running_loop().time() + self._wait.total_seconds()
        while not current.is_finished and asyncio.get_running_loop().time() < deadline:
            await asyncio.sleep(0.1)
            async with self._s.uow_factory() as uow:
                await uow.scope_to(principal)
                current = await GetExecution(uow)(principal, execution_id)
        return current
