"""An unsigned caller learns nothing about tenants, not even from the work done: an
unknown tenant's delivery is checked against a decoy secret, as a known one's is against
its own, and both end in the same error."""

import uuid
from collections.abc import Mapping

import pytest

from application.use_cases.ticket_payloads import standard_ticket
from application.use_cases.ticket_webhooks import ReceiveTicketWebhook, TicketSource
from application.use_cases.webhook_secrets import MintWebhookSecret
from domain.errors import InvalidSignature
from tests.support.queue_world import BOX, World


class SpyVerifier:
    def __init__(self) -> None:
        self.seen: list[list[str]] = []

    def verify(self, body: bytes, headers: Mapping[str, str], secrets: list[str]) -> list[str]:
        self.seen.append(list(secrets))
        raise InvalidSignature()


async def test_known_and_unknown_tenants_do_the_same_work() -> None:
    world, spy = World(), SpyVerifier()
    tenant_id = world.agent.tenant_id
    async with world.uow() as uow:
        await uow.scope_to(world.principal)
        minted = await MintWebhookSecret(uow, world.clock, BOX)(world.principal, tenant_id)
    receive = ReceiveTicketWebhook(
        world.services(), world.queue, TicketSource("standard", spy, standard_ticket)
    )
    for target in (str(tenant_id), str(uuid.uuid4()), "not-a-uuid"):
        with pytest.raises(InvalidSignature):
            await receive(target, b"{}", {})
    known, unknown, malformed = spy.seen
    assert known == [minted.secret]
    assert len(unknown) == len(malformed) == 1 and unknown == malformed
    assert unknown[0].startswith("whsec_") and unknown[0] != minted.secret
