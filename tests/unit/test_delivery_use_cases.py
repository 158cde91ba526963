"""Deliveries over the in-memory adapters: callbacks retried with backoff under one
webhook-id, at most 8 tries within 24 h; ticket write-backs retried on transient errors,
a permanent failure visible while the execution stays `success`; duplicates do nothing."""

import itertools
import json
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import timedelta

import pytest

from adapters.in_memory.job_queue import InMemoryJobQueue
from adapters.webhooks.verifiers import StandardWebhookVerifier
from application.gateway_errors import GatewayUnavailable
from application.ports.outbound import TicketSystem
from application.use_cases.callbacks import CallbackPlanner
from application.use_cases.deliveries import AttemptDelivery, DeliveryServices, DispatchDeliveries
from application.use_cases.execution_deliveries import DeliveryRecord, ListDeliveries
from application.use_cases.queued_executions import Submission, SubmitExecution
from application.use_cases.ticket_payloads import standard_ticket
from application.use_cases.ticket_systems import ConfigureTicketSystem, TicketSystemSettings
from application.use_cases.ticket_webhooks import ReceiveTicketWebhook, TicketSource
from application.use_cases.webhook_secrets import MintWebhookSecret
from domain.delivery import AttemptOutcome, DeliveryKind, DeliveryStatus
from domain.errors import InvalidValue, Refused
from domain.ticket import TicketSystemKind
from tests.support.queue_world import BOX, World
from tests.support.webhooks import signed, ticket_body

OK = AttemptOutcome(True, status_code=200)
DOWN = AttemptOutcome(False, True, 503, "the receiver answered HTTP 503")
GONE = AttemptOutcome(False, False, 404, "the receiver answered HTTP 404")


class AllowAll:
    async def check(self, url: str, field: str) -> None:
        if "forbidden" in url:
            raise InvalidValue(field, "is not allowed")


@dataclass
class Remote:
    """Stands in for the receiver and the ticket system: answers from a script."""

    script: list[AttemptOutcome] = field(default_factory=list)
    calls: list[tuple[str, ...]] = field(default_factory=list)

    def _next(self) -> AttemptOutcome:
        return self.script.pop(0) if self.script else OK

    async def post(self, url: str, body: bytes, message_id: str, secret: str) -> AttemptOutcome:
        self.calls.append((url, body.decode(), message_id, secret))
        return self._next()

    def __call__(
        self, kind: TicketSystemKind, base_url: str, credentials: Mapping[str, str]
    ) -> TicketSystem:
        remote = self

        class System:
            async def add_note(self, ticket_id: str, text: str) -> AttemptOutcome:
                remote.calls.append(
                    (kind.value, base_url, ticket_id, text, credentials["authtoken"])
                )
                return remote._next()

        return System()


@dataclass
class Deliveries:
    world: World
    remote: Remote
    queue: InMemoryJobQueue

    def services(self) -> DeliveryServices:
        return DeliveryServices(
            self.world.uow, self.world.clock, BOX, self.queue, self.remote, self.remote
        )

    async def pass_once(self) -> None:
        """A dispatcher pass, then every attempt it queued, as a worker would."""
        await DispatchDeliveries(self.services())()
        sent, self.queue.deliveries[:] = list(self.queue.deliveries), []
        for message in sent:
            await AttemptDelivery(self.services())(*message)

    async def records(self, execution_id: uuid.UUID) -> list[DeliveryRecord]:
        async with self.world.uow() as uow:
            await uow.scope_to(self.world.principal)
            return await ListDeliveries(uow)(self.world.principal, execution_id)


@pytest.fixture
def d() -> Deliveries:
    return Deliveries(World(), Remote(), InMemoryJobQueue())


async def _secret(d: Deliveries) -> str:
    async with d.world.uow() as uow:
        await uow.scope_to(d.world.principal)
        minted = await MintWebhookSecret(uow, d.world.clock, BOX)(
            d.world.principal, d.world.agent.tenant_id
        )
    return minted.secret


async def _submit_with_callback(d: Deliveries, url: str = "https://hooks.example/x") -> uuid.UUID:
    world = d.world
    async with world.uow() as uow:
        await uow.scope_to(world.principal)
        planner = CallbackPlanner(AllowAll(), world.clock)
        submit = SubmitExecution(uow, world.services(), world.queue, callbacks=planner)
        done = await submit(world.principal, Submission(world.agent.id, "hi", url))
    return done.execution.id


async def test_a_callback_is_delivered_once_the_execution_ends(d: Deliveries) -> None:
    secret = await _secret(d)
    execution_id = await _submit_with_callback(d)
    await d.pass_once()
    assert d.remote.calls == []  # still queued: nothing to say yet
    await d.world.run(execution_id)
    await d.pass_once()
    [(url, body, message_id, used)] = d.remote.calls
    assert (url, used) == ("https://hooks.example/x", secret)
    event = json.loads(body)
    assert event["type"] == "execution.finished"
    assert (event["data"]["id"], event["data"]["status"]) == (str(execution_id), "success")
    [record] = await d.records(execution_id)
    assert (record.delivery.status, record.delivery.attempts) == (DeliveryStatus.DELIVERED, 1)
    assert record.delivery.message_id == message_id and len(record.attempts) == 1
    await d.pass_once()
    assert len(d.remote.calls) == 1  # delivered: never again


async def test_a_failing_callback_backs_off_keeps_its_id_and_stops_after_8_tries(
    d: Deliveries,
) -> None:
    await _secret(d)
    execution_id = await _submit_with_callback(d)
    await d.world.run(execution_id)
    d.remote.script = [DOWN] * 20
    waits = []
    for _ in range(12):
        await d.pass_once()
        [record] = await d.records(execution_id)
        if record.delivery.next_attempt_at is None:
            break
        waits.append(record.delivery.next_attempt_at - d.world.clock.at)
        d.world.clock.at = record.delivery.next_attempt_at
    [record] = await d.records(execution_id)
    assert (record.delivery.status, record.delivery.attempts) == (DeliveryStatus.FAILED, 8)
    assert len(d.remote.calls) == 8 and len({c[2] for c in d.remote.calls}) == 1  # one webhook-id
    assert [a.number for a in record.attempts] == list(range(1, 9))
    assert all(a.status_code == 503 and not a.delivered for a in record.attempts)
    assert all(later > earlier for earlier, later in itertools.pairwise(waits))
    assert waits[0] == timedelta(seconds=10)
    assert sum(waits, timedelta()) < timedelta(hours=24)


async def test_one_failure_then_success(d: Deliveries) -> None:
    await _secret(d)
    execution_id = await _submit_with_callback(d)
    await d.world.run(execution_id)
    d.remote.script = [DOWN]
    await d.pass_once()
    [record] = await d.records(execution_id)
    assert record.delivery.status is DeliveryStatus.PENDING
    assert record.delivery.next_attempt_at is not None
    d.world.clock.at = record.delivery.next_attempt_at
    await d.pass_once()
    [record] = await d.records(execution_id)
    assert record.delivery.status is DeliveryStatus.DELIVERED
    assert [a.delivered for a in record.attempts] == [False, True]


async def test_a_permanent_refusal_is_not_retried(d: Deliveries) -> None:
    await _secret(d)
    execution_id = await _submit_with_callback(d)
    await d.world.run(execution_id)
    d.remote.script = [GONE]
    await d.pass_once()
    [record] = await d.records(execution_id)
    assert (record.delivery.status, record.delivery.last_error) == (
        DeliveryStatus.FAILED,
        "the receiver answered HTTP 404",
    )


async def test_a_duplicated_attempt_message_makes_no_second_call(d: Deliveries) -> None:
    await _secret(d)
    execution_id = await _submit_with_callback(d)
    await d.world.run(execution_id)
    await DispatchDeliveries(d.services())()
    [message] = d.queue.deliveries
    await AttemptDelivery(d.services())(*message)
    await AttemptDelivery(d.services())(*message)
    assert len(d.remote.calls) == 1


async def test_a_callback_needs_a_webhook_secret_and_an_allowed_url(d: Deliveries) -> None:
    with pytest.raises(Refused, match="webhook secret"):
        await _submit_with_callback(d)
    await _secret(d)
    with pytest.raises(InvalidValue) as refused:
        await _submit_with_callback(d, "https://forbidden.example/")
    assert refused.value.field == "callback_url"
    assert not d.world.store.executions  # neither made a job


async def _ticket_job(d: Deliveries, *, configured: bool = True) -> uuid.UUID:
    """A queued execution with a ticket write-back, as a webhook makes it."""
    world, secret = d.world, await _secret(d)
    tenant = world.store.tenants[world.agent.tenant_id]
    tenant.ticket_agent_id = world.agent.id
    if configured:
        async with world.uow() as uow:
            await uow.scope_to(world.principal)
            settings = TicketSystemSettings(
                TicketSystemKind.SERVICEDESK_PLUS, "https://sdp.example", {"authtoken": "K"}
            )
            await ConfigureTicketSystem(uow, world.clock, BOX, AllowAll())(
                world.principal, tenant.id, settings
            )
    source = TicketSource("standard", StandardWebhookVerifier(), standard_ticket)
    body = ticket_body(ticket_id="4242")
    receive = ReceiveTicketWebhook(world.services(), world.queue, source)
    return await receive(str(tenant.id), body, signed(secret, body))


async def test_a_ticket_enhancement_is_written_back_after_success(d: Deliveries) -> None:
    execution_id = await _ticket_job(d)
    await d.world.run(execution_id)
    d.remote.script = [DOWN]  # one transient error: retried
    await d.pass_once()
    [record] = await d.records(execution_id)
    assert record.delivery.next_attempt_at is not None
    d.world.clock.at = record.delivery.next_attempt_at
    await d.pass_once()
    output = d.world.store.executions[execution_id].output
    assert d.remote.calls == [("servicedesk_plus", "https://sdp.example", "4242", output, "K")] * 2
    [record] = await d.records(execution_id)
    assert record.delivery.kind is DeliveryKind.TICKET_WRITEBACK
    assert (record.delivery.status, len(record.attempts)) == (DeliveryStatus.DELIVERED, 2)


async def test_a_permanent_write_back_failure_leaves_the_execution_success(d: Deliveries) -> None:
    execution_id = await _ticket_job(d)
    await d.world.run(execution_id)
    d.remote.script = [GONE]
    await d.pass_once()
    [record] = await d.records(execution_id)
    assert record.delivery.status is DeliveryStatus.FAILED and "404" in (
        record.delivery.last_error or ""
    )
    assert d.world.store.executions[execution_id].status.value == "success"


async def test_no_write_back_without_a_ticket_system_or_a_success(d: Deliveries) -> None:
    execution_id = await _ticket_job(d, configured=False)
    await d.world.run(execution_id)
    await d.pass_once()
    [record] = await d.records(execution_id)
    assert record.delivery.status is DeliveryStatus.SKIPPED and d.remote.calls == []
    assert "no ticket system" in (record.delivery.last_error or "")


async def test_a_failed_run_is_not_written_back(d: Deliveries) -> None:
    execution_id = await _ticket_job(d)
    d.world.gateway.fail_next(GatewayUnavailable("down"), "chat")
    await d.world.run(execution_id)
    await d.pass_once()
    [record] = await d.records(execution_id)
    assert record.delivery.status is DeliveryStatus.SKIPPED and d.remote.calls == []
