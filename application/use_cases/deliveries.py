"""Deliveries after an execution ends: its callback and its ticket write-back.

State lives in PostgreSQL; a worker restart loses nothing. The dispatcher (in the reaper's
loop) makes due deliveries of ended executions and hands each attempt to the queue; an
attempt is taken with a compare-and-swap on the attempt count, so a duplicated message
makes no second try. The remote call happens outside any transaction."""

import logging
import uuid
from dataclasses import dataclass, field
from datetime import timedelta

from application.errors import QueueUnavailable
from application.ports.clock import Clock
from application.ports.outbound import CallbackSender, DeliveryQueue, TicketSystemFactory
from application.ports.secret_box import SecretBox
from application.ports.unit_of_work import UnitOfWorkFactory
from application.use_cases.delivery_targets import Prepared, prepare_attempt
from domain.delivery import (
    AttemptOutcome,
    Delivery,
    DeliveryAttempt,
    DeliveryKind,
    DeliveryStatus,
    RetryPolicy,
    callback_policy,
    writeback_policy,
)
from domain.execution import Execution, ExecutionStatus
from domain.principal import CONSOLE_OPERATOR, Principal

log = logging.getLogger("agentkeel.deliveries")
RECEIPTS_KEPT = timedelta(days=30)  # far beyond the 300 s signature tolerance


@dataclass(frozen=True)
class DeliveryServices:
    uow_factory: UnitOfWorkFactory
    clock: Clock
    box: SecretBox
    queue: DeliveryQueue
    sender: CallbackSender
    tickets: TicketSystemFactory
    callbacks: RetryPolicy = field(default_factory=callback_policy)
    writebacks: RetryPolicy = field(default_factory=writeback_policy)
    # An attempt (or a dispatched message) not finished by then is dispatched again.
    lease: timedelta = timedelta(minutes=2)
    batch: int = 200

    def policy(self, delivery: Delivery) -> RetryPolicy:
        return self.callbacks if delivery.kind is DeliveryKind.CALLBACK else self.writebacks


def _tenant(tenant_id: uuid.UUID) -> Principal:
    return Principal(key_id=uuid.UUID(int=0), tenant_id=tenant_id)


class DispatchDeliveries:
    def __init__(self, services: DeliveryServices) -> None:
        self._s = services

    async def __call__(self) -> int:
        """One pass: ended executions' deliveries become due, due ones are sent out."""
        now = self._s.clock.now()
        async with self._s.uow_factory() as uow:
            await uow.scope_to(CONSOLE_OPERATOR)
            for delivery, succeeded in await uow.deliveries.waiting_on_ended(self._s.batch):
                delivery.activate(succeeded, now)
                await uow.deliveries.update(delivery, delivery.attempts)
            due = await uow.deliveries.due(now, self._s.batch)
            for delivery in due:  # dispatched: not again until the lease passes
                delivery.next_attempt_at = now + self._s.lease
                await uow.deliveries.update(delivery, delivery.attempts)
            await uow.webhook_receipts.prune(now - RECEIPTS_KEPT)
            await uow.commit()
        return await self._send(due)

    async def after_execution(self, execution: Execution) -> None:
        """The worker's fast path, right after it recorded an execution's end."""
        now = self._s.clock.now()
        async with self._s.uow_factory() as uow:
            await uow.scope_to(_tenant(execution.tenant_id))
            ready: list[Delivery] = []
            for delivery in await uow.deliveries.for_execution(execution.id):
                if delivery.status is not DeliveryStatus.WAITING:
                    continue
                delivery.activate(execution.status is ExecutionStatus.SUCCESS, now)
                if delivery.next_attempt_at is not None:  # pending, not skipped
                    delivery.next_attempt_at = now + self._s.lease
                    ready.append(delivery)
                await uow.deliveries.update(delivery, delivery.attempts)
            await uow.commit()
        await self._send(ready)

    async def _send(self, deliveries: list[Delivery]) -> int:
        for sent, delivery in enumerate(deliveries):
            try:
                await self._s.queue.enqueue_delivery(
                    delivery.id, delivery.tenant_id, delivery.attempts + 1
                )
            except QueueUnavailable:
                log.warning("broker unavailable; deliveries wait for the next pass")
                return sent
        return len(deliveries)


class AttemptDelivery:
    """One try of one delivery (the `deliver` message's handler)."""

    def __init__(self, services: DeliveryServices) -> None:
        self._s = services

    async def __call__(self, delivery_id: uuid.UUID, tenant_id: uuid.UUID, attempt: int) -> None:
        taken = await self._take(delivery_id, tenant_id, attempt)
        if taken is None:
            return  # already tried, ended, or gone: a duplicate message does nothing
        delivery, prepared = taken
        started = self._s.clock.now()
        try:
            outcome = prepared.outcome or await self._call(prepared)
        except Exception as exc:  # an adapter bug or a URL it cannot use: record, not lose
            log.exception("delivery %s: the attempt raised", delivery.id)
            outcome = AttemptOutcome(False, True, error=f"{type(exc).__name__} in the attempt")
        finished = self._s.clock.now()
        delivery.record(outcome, finished, self._s.policy(delivery))
        if prepared.skip_reason is not None:
            delivery.skip(prepared.skip_reason, finished)
        async with self._s.uow_factory() as uow:
            await uow.scope_to(_tenant(tenant_id))
            if await uow.deliveries.update(delivery, attempt):
                await uow.deliveries.add_attempt(
                    DeliveryAttempt(
                        delivery.id,
                        tenant_id,
                        attempt,
                        started,
                        finished,
                        outcome.delivered,
                        outcome.status_code,
                        outcome.error,
                        outcome.response_excerpt,
                    )
                )
                await uow.commit()
        if delivery.status is DeliveryStatus.FAILED:
            log.warning("delivery %s failed for good: %s", delivery.id, delivery.last_error)

    async def _take(
        self, delivery_id: uuid.UUID, tenant_id: uuid.UUID, attempt: int
    ) -> tuple[Delivery, Prepared] | None:
        now = self._s.clock.now()
        async with self._s.uow_factory() as uow:
            await uow.scope_to(_tenant(tenant_id))
            delivery = await uow.deliveries.get(delivery_id)
            if delivery is None or delivery.status is not DeliveryStatus.PENDING:
                return None
            if delivery.attempts != attempt - 1:
                return None
            if attempt > self._s.policy(delivery).max_attempts:  # tries lost to crashes
                delivery.record(
                    AttemptOutcome(False, error="out of tries"), now, self._s.policy(delivery)
                )
                await uow.deliveries.update(delivery, attempt - 1)
                await uow.commit()
                return None
            delivery.begin_attempt(now, now + self._s.lease)
            if not await uow.deliveries.update(delivery, attempt - 1):
                return None
            prepared = await prepare_attempt(uow, self._s.box, delivery, now)
            await uow.commit()
        return delivery, prepared

    async def _call(self, prepared: Prepared) -> AttemptOutcome:
        if prepared.callback is not None:
            url, body, message_id, secret = prepared.callback
            return await self._s.sender.post(url, body, message_id, secret)
        assert prepared.writeback is not None
        kind, base_url, credentials, ticket_id, text = prepared.writeback
        return await self._s.tickets(kind, base_url, credentials).add_note(ticket_id, text)
