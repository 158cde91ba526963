"""A tenant, an agent and the queued-execution use cases over the in-memory adapters, with
a clock the test moves and a gateway that blocks inside the call."""

import asyncio
import base64
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from adapters.fake_llm.gateway import FakeLlmGateway
from adapters.in_memory.job_queue import InMemoryJobQueue
from adapters.in_memory.store import InMemoryStore
from adapters.in_memory.unit_of_work import InMemoryUnitOfWork
from adapters.nacl.secret_box import NaclSecretBox
from application.ports.llm_types import ChatRequest, ChatResult
from application.use_cases.queued_executions import CancelExecution, Submission, SubmitExecution
from application.use_cases.reaper import ReapExecutions
from application.use_cases.run_execution import Lease, RunQueuedExecution
from application.use_cases.services import LlmServices
from domain.execution import Execution, ExecutionStatus
from domain.principal import Principal
from tests.support.factories import a_tenant, an_agent

BOX = NaclSecretBox.from_env_value("t:" + base64.b64encode(bytes(32)).decode())
# A heartbeat every 10 ms: cancels and lost leases are seen at once.
FAST = Lease(duration=timedelta(seconds=30), heartbeat=timedelta(milliseconds=10))
REAPER_REQUEUE_AFTER = timedelta(seconds=10)


class ManualClock:
    def __init__(self) -> None:
        self.at = datetime.now(UTC)

    def now(self) -> datetime:
        return self.at


class BlockingGateway(FakeLlmGateway):
    """chat() waits until `release` is set; `entered` tells that a call started."""

    def __init__(self) -> None:
        super().__init__()
        self.entered, self.release = asyncio.Event(), asyncio.Event()

    async def chat(self, request: ChatRequest) -> ChatResult:
        self.entered.set()
        await self.release.wait()
        return await super().chat(request)


@dataclass
class World:
    store: InMemoryStore = field(default_factory=InMemoryStore)
    queue: InMemoryJobQueue = field(default_factory=InMemoryJobQueue)
    gateway: FakeLlmGateway = field(default_factory=FakeLlmGateway)
    clock: ManualClock = field(default_factory=ManualClock)

    def __post_init__(self) -> None:
        tenant = a_tenant()
        self.agent = an_agent(tenant.id)
        self.store.tenants[tenant.id] = tenant
        self.store.agents[self.agent.id] = self.agent
        self.principal = Principal(key_id=uuid.uuid4(), tenant_id=tenant.id)

    def uow(self) -> InMemoryUnitOfWork:
        return InMemoryUnitOfWork(self.store)

    def services(self) -> LlmServices:
        return LlmServices(self.gateway, BOX, self.clock, self.uow)

    async def submit(self, text: str = "hello", key: str | None = None) -> uuid.UUID:
        async with self.uow() as uow:
            await uow.scope_to(self.principal)
            submit = SubmitExecution(uow, self.services(), self.queue)
            done = await submit(self.principal, Submission(self.agent.id, text, None, key))
        assert done.execution.status is ExecutionStatus.QUEUED
        return done.execution.id

    async def run(self, execution_id: uuid.UUID, worker: str = "w1", lease: Lease = FAST) -> None:
        await RunQueuedExecution(self.services(), worker, lease)(execution_id, self.agent.tenant_id)

    async def start_blocked(self, lease: Lease = FAST) -> tuple[uuid.UUID, "asyncio.Task[None]"]:
        """A submitted execution whose worker is inside the gateway call."""
        gateway = self.gateway = BlockingGateway()
        execution_id = await self.submit()
        run = asyncio.create_task(self.run(execution_id, lease=lease))
        await asyncio.wait_for(gateway.entered.wait(), 5)
        return execution_id, run

    async def reap(self) -> tuple[int, int]:
        report = await ReapExecutions(self.uow, self.queue, self.clock, REAPER_REQUEUE_AFTER)()
        return report.requeued, report.timed_out

    async def cancel(self, execution_id: uuid.UUID) -> Execution:
        async with self.uow() as uow:
            await uow.scope_to(self.principal)
            return await CancelExecution(uow, self.services())(self.principal, execution_id)

    def row(self, execution_id: uuid.UUID) -> Execution:
        return self.store.executions[execution_id]
