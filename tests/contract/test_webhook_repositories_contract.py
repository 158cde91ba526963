"""The webhook and delivery repositories: the same suite on the in-memory and SQL units
of work (secrets' overlap, receipts' claim, ticket systems' upsert, deliveries' CAS)."""

import uuid
from datetime import timedelta

from application.ports.secret_box import SealedSecret
from application.ports.unit_of_work import UnitOfWorkFactory
from application.ports.webhook_receipt_repository import WebhookReceipt
from application.ports.webhook_secret_repository import StoredWebhookSecret
from domain.delivery import Delivery, DeliveryAttempt, DeliveryKind, DeliveryStatus
from domain.ids import new_id
from domain.principal import CONSOLE_OPERATOR, Principal
from domain.ticket import TicketSystemConfig, TicketSystemKind
from tests.support.factories import NOW, a_tenant, an_agent
from tests.support.llm_helpers import an_execution


def _scope(tenant_id: uuid.UUID) -> Principal:
    return Principal(key_id=tenant_id, tenant_id=tenant_id)


async def _tenant(uow_factory: UnitOfWorkFactory) -> uuid.UUID:
    tenant = a_tenant()
    async with uow_factory() as uow:
        await uow.scope_to(CONSOLE_OPERATOR)
        await uow.tenants.add(tenant)
        await uow.commit()
    return tenant.id


def _sealed(label: str) -> SealedSecret:
    return SealedSecret("k1", label.encode())


async def test_secrets_overlap_newest_first_and_only_one_previous(
    uow_factory: UnitOfWorkFactory,
) -> None:
    tenant_id = await _tenant(uow_factory)
    ids = [new_id(), new_id(), new_id()]
    for n, secret_id in enumerate(ids):
        at = NOW + timedelta(minutes=n)
        async with uow_factory() as uow:
            await uow.scope_to(_scope(tenant_id))
            await uow.webhook_secrets.retire(tenant_id, at + timedelta(hours=24), at)
            stored = StoredWebhookSecret(secret_id, tenant_id, _sealed(f"s{n}"), created_at=at)
            await uow.webhook_secrets.add(stored)
            await uow.commit()
    async with uow_factory() as uow:
        await uow.scope_to(_scope(tenant_id))
        active = await uow.webhook_secrets.active(tenant_id, NOW + timedelta(minutes=3))
        later = await uow.webhook_secrets.active(tenant_id, NOW + timedelta(hours=25))
        swapped = await uow.webhook_secrets.replace_secret(ids[2], _sealed("s2"), _sealed("n"))
        stale = await uow.webhook_secrets.replace_secret(ids[2], _sealed("s2"), _sealed("m"))
        await uow.commit()
    assert [s.id for s in active] == [ids[2], ids[1]]
    assert active[0].expires_at is None
    assert active[1].expires_at == NOW + timedelta(minutes=2, hours=24)
    assert [s.id for s in later] == [ids[2]]
    assert (swapped, stale) == (True, False)
    other = await _tenant(uow_factory)
    async with uow_factory() as uow:
        await uow.scope_to(_scope(other))
        assert await uow.webhook_secrets.active(tenant_id, NOW) == []


async def test_receipts_claim_once_and_prune(uow_factory: UnitOfWorkFactory) -> None:
    tenant_id = await _tenant(uow_factory)
    first, second = new_id(), new_id()
    async with uow_factory() as uow:
        await uow.scope_to(_scope(tenant_id))
        mine = await uow.webhook_receipts.claim(
            WebhookReceipt(tenant_id, "standard", "msg_1", first, NOW)
        )
        await uow.commit()
    async with uow_factory() as uow:
        await uow.scope_to(_scope(tenant_id))
        again = await uow.webhook_receipts.claim(
            WebhookReceipt(tenant_id, "standard", "msg_1", second, NOW)
        )
        other_source = await uow.webhook_receipts.claim(
            WebhookReceipt(tenant_id, "jira", "msg_1", second, NOW)
        )
        found = await uow.webhook_receipts.find(tenant_id, "standard", "msg_1")
        await uow.commit()
    assert (mine, again, other_source, found) == (first, first, second, first)
    async with uow_factory() as uow:
        await uow.scope_to(CONSOLE_OPERATOR)
        pruned = await uow.webhook_receipts.prune(NOW + timedelta(seconds=1))
        await uow.commit()
    assert pruned >= 2
    async with uow_factory() as uow:
        await uow.scope_to(_scope(tenant_id))
        assert await uow.webhook_receipts.find(tenant_id, "standard", "msg_1") is None


async def test_a_rolled_back_claim_leaves_nothing(uow_factory: UnitOfWorkFactory) -> None:
    tenant_id = await _tenant(uow_factory)
    async with uow_factory() as uow:
        await uow.scope_to(_scope(tenant_id))
        await uow.webhook_receipts.claim(WebhookReceipt(tenant_id, "standard", "m", new_id(), NOW))
    async with uow_factory() as uow:
        await uow.scope_to(_scope(tenant_id))
        assert await uow.webhook_receipts.find(tenant_id, "standard", "m") is None


async def test_ticket_systems_one_per_tenant(uow_factory: UnitOfWorkFactory) -> None:
    tenant_id = await _tenant(uow_factory)
    config = TicketSystemConfig(
        new_id(), tenant_id, TicketSystemKind.JIRA, "https://a.atlassian.net/", NOW, NOW
    )
    async with uow_factory() as uow:
        await uow.scope_to(_scope(tenant_id))
        await uow.ticket_systems.put(config, _sealed("c1"))
        await uow.commit()
    changed = TicketSystemConfig(
        config.id, tenant_id, TicketSystemKind.SERVICEDESK_PLUS, "https://sdp.example", NOW, NOW
    )
    async with uow_factory() as uow:
        await uow.scope_to(_scope(tenant_id))
        await uow.ticket_systems.put(changed, _sealed("c2"))
        got = await uow.ticket_systems.get(tenant_id)
        swapped = await uow.ticket_systems.replace_secret(config.id, _sealed("c2"), _sealed("c3"))
        await uow.commit()
    assert got is not None
    assert (got[0].id, got[0].kind, got[0].base_url, got[1]) == (
        config.id,
        TicketSystemKind.SERVICEDESK_PLUS,
        "https://sdp.example",
        _sealed("c2"),
    )
    assert swapped
    async with uow_factory() as uow:
        await uow.scope_to(_scope(tenant_id))
        assert (
            await uow.ticket_systems.delete(tenant_id),
            await uow.ticket_systems.delete(tenant_id),
        ) == (True, False)
        await uow.commit()


async def test_deliveries_cas_due_and_attempts(uow_factory: UnitOfWorkFactory) -> None:
    tenant_id = await _tenant(uow_factory)
    agent = an_agent(tenant_id)
    execution = an_execution(tenant_id, agent.id)
    delivery = Delivery(
        new_id(), tenant_id, execution.id, DeliveryKind.CALLBACK, "https://x", "msg_a", NOW
    )
    async with uow_factory() as uow:
        await uow.scope_to(_scope(tenant_id))
        await uow.agents.add(agent)
        await uow.executions.add(execution)
        await uow.deliveries.add(delivery)
        await uow.commit()

    async def waiting() -> list[tuple[uuid.UUID, bool]]:
        async with uow_factory() as uow:
            await uow.scope_to(CONSOLE_OPERATOR)
            found = await uow.deliveries.waiting_on_ended(100_000)
        return [(d.id, succeeded) for d, succeeded in found if d.id == delivery.id]

    assert await waiting() == []  # its execution is still queued
    execution.start(NOW)
    execution.fail("boom", NOW)
    async with uow_factory() as uow:
        await uow.scope_to(_scope(tenant_id))
        await uow.executions.update(execution)
        await uow.commit()
    assert await waiting() == [(delivery.id, False)]
    delivery.activate(True, NOW)
    assert (delivery.status, delivery.next_attempt_at) == (DeliveryStatus.PENDING, NOW)
    async with uow_factory() as uow:
        await uow.scope_to(_scope(tenant_id))
        assert await uow.deliveries.update(delivery, 0)
        number = delivery.begin_attempt(NOW, NOW + timedelta(minutes=2))
        assert await uow.deliveries.update(delivery, 0)
        assert not await uow.deliveries.update(delivery, 0)  # stale: someone took try 1
        await uow.deliveries.add_attempt(
            DeliveryAttempt(delivery.id, tenant_id, number, NOW, NOW, False, 503, "x", "body")
        )
        await uow.commit()
    async with uow_factory() as uow:
        await uow.scope_to(CONSOLE_OPERATOR)
        due_now = [d.id for d in await uow.deliveries.due(NOW, 1000)]
        due_later = [d.id for d in await uow.deliveries.due(NOW + timedelta(minutes=3), 1000)]
        [loaded] = await uow.deliveries.for_execution(execution.id)
        attempts = await uow.deliveries.attempts([delivery.id])
    assert delivery.id not in due_now and delivery.id in due_later
    assert (loaded.status, loaded.attempts, loaded.message_id) == (
        DeliveryStatus.PENDING,
        1,
        "msg_a",
    )
    assert [(a.number, a.status_code, a.response_excerpt) for a in attempts] == [(1, 503, "body")]
    other = await _tenant(uow_factory)
    async with uow_factory() as uow:
        await uow.scope_to(_scope(other))
        assert await uow.deliveries.get(delivery.id) is None
        assert await uow.deliveries.attempts([delivery.id]) == []
