"""A signed ticket webhook in: verify, then queue the tenant's ticket agent on the ticket.

The unsigned caller learns nothing about any tenant: the tenant's secrets are read under
its own context (none for an unknown tenant, which is then checked against a random decoy
secret: the same work, the same answer), and the signature is verified on the raw bytes
before the body is parsed or the tenant's settings are looked at."""

import logging
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import timedelta

from application.errors import QueueUnavailable
from application.ports.job_queue import JobQueue
from application.ports.outbound import WebhookVerifier
from application.ports.unit_of_work import UnitOfWork
from application.ports.webhook_receipt_repository import WebhookReceipt
from application.use_cases.executions import route_for
from application.use_cases.queued_executions import REQUEUE_AFTER
from application.use_cases.services import LlmServices
from application.use_cases.webhook_secrets import active_secrets, new_webhook_secret
from domain.delivery import Delivery, DeliveryKind
from domain.errors import InvalidSignature, Refused
from domain.execution import AgentSnapshot, Execution
from domain.ids import new_id
from domain.principal import Principal
from domain.ticket import Ticket

log = logging.getLogger("agentkeel.webhooks")
_DECOY = [new_webhook_secret()]  # never stored or shown: nothing can be signed with it


def _tenant_id(text: str) -> uuid.UUID | None:
    try:
        return uuid.UUID(text)
    except ValueError:
        return None


@dataclass(frozen=True, slots=True)
class TicketSource:
    """A signing scheme and how its bodies become tickets."""

    name: str  # kept with each receipt: ids of different schemes never collide
    verifier: WebhookVerifier
    parse: Callable[[bytes], Ticket]


class ReceiveTicketWebhook:
    def __init__(
        self,
        services: LlmServices,
        queue: JobQueue,
        source: TicketSource,
        requeue_after: timedelta = REQUEUE_AFTER,
    ) -> None:
        self._s, self._queue, self._source, self._requeue_after = (
            services,
            queue,
            source,
            requeue_after,
        )

    async def __call__(
        self, tenant_text: str, body: bytes, headers: Mapping[str, str]
    ) -> uuid.UUID:
        """The job's execution id (the first one's, for a delivery seen before)."""
        tenant_id = _tenant_id(tenant_text)
        scope = Principal(key_id=uuid.UUID(int=0), tenant_id=tenant_id or uuid.uuid4())
        secrets: list[str] = []
        async with self._s.uow_factory() as uow:
            await uow.scope_to(scope)
            if tenant_id is not None:
                secrets = await active_secrets(uow, self._s.box, tenant_id, self._s.clock.now())
        keys = self._source.verifier.verify(body, headers, secrets or _DECOY)
        if not secrets or tenant_id is None:
            raise InvalidSignature()  # unreachable unless the decoy verified; be sure
        ticket = self._source.parse(body)
        async with self._s.uow_factory() as uow:
            await uow.scope_to(scope)
            job = await self._job(uow, tenant_id, keys, ticket)
        return job

    async def _job(
        self, uow: UnitOfWork, tenant_id: uuid.UUID, keys: list[str], ticket: Ticket
    ) -> uuid.UUID:
        source = self._source.name
        for key in keys:
            seen = await uow.webhook_receipts.find(tenant_id, source, key)
            if seen is not None:
                return seen
        execution = await self._new_execution(uow, tenant_id, ticket)
        now = execution.created_at
        for key in keys:  # a concurrent twin's claim wins: ours is rolled back
            owner = await uow.webhook_receipts.claim(
                WebhookReceipt(tenant_id, source, key, execution.id, now)
            )
            if owner != execution.id:
                return owner
        await uow.executions.add(execution)
        await uow.deliveries.add(
            Delivery(
                id=new_id(),
                tenant_id=tenant_id,
                execution_id=execution.id,
                kind=DeliveryKind.TICKET_WRITEBACK,
                target=ticket.ticket_id,
                message_id=f"msg_{execution.id.hex}",
                created_at=now,
            )
        )
        await uow.commit()
        try:
            await self._queue.enqueue_execution(execution.id, tenant_id)
        except QueueUnavailable:
            log.warning("broker unavailable; ticket job %s is enqueued by the reaper", execution.id)
        return execution.id

    async def _new_execution(
        self, uow: UnitOfWork, tenant_id: uuid.UUID, ticket: Ticket
    ) -> Execution:
        tenant = await uow.tenants.get(tenant_id)
        if tenant is None or tenant.ticket_agent_id is None:
            raise Refused("No ticket agent is configured for this tenant")
        agent = await uow.agents.get(tenant.ticket_agent_id)
        if agent is None or not agent.is_runnable:
            raise Refused("The tenant's ticket agent is not active")
        _, _, provider_id = await route_for(uow, self._s.box, agent)  # BYOK without one: 400
        now = self._s.clock.now()
        return Execution(
            id=new_id(),
            tenant_id=tenant_id,
            agent_id=agent.id,
            input=ticket.render(),
            snapshot=AgentSnapshot.of(agent, provider_id),
            created_at=now,
            lease_expires_at=now + self._requeue_after,
        )
