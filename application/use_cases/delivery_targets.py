"""What one delivery attempt sends, read in the attempt's claim transaction."""

import json
from dataclasses import dataclass, field
from datetime import datetime

from application.ports.secret_box import SecretBox, SecretContext
from application.ports.ticket_system_repository import TICKET_SYSTEMS_TABLE
from application.ports.unit_of_work import UnitOfWork
from application.use_cases.callbacks import execution_event
from application.use_cases.webhook_secrets import active_secrets
from domain.delivery import AttemptOutcome, Delivery, DeliveryKind
from domain.ticket import TicketSystemConfig, TicketSystemKind


def credentials_context(config: TicketSystemConfig) -> SecretContext:
    return SecretContext(config.tenant_id, TICKET_SYSTEMS_TABLE, config.id, "credentials")


@dataclass(frozen=True, slots=True)
class Prepared:
    # (url, body, message id, secret) of a callback
    callback: tuple[str, bytes, str, str] | None = field(default=None, repr=False)
    # (kind, base URL, credentials, ticket id, text) of a write-back
    writeback: tuple[TicketSystemKind, str, dict[str, str], str, str] | None = field(
        default=None, repr=False
    )
    outcome: AttemptOutcome | None = None  # known without calling anyone
    skip_reason: str | None = None


def _refused(error: str) -> Prepared:
    return Prepared(outcome=AttemptOutcome(False, transient=False, error=error))


async def prepare_attempt(
    uow: UnitOfWork, box: SecretBox, delivery: Delivery, now: datetime
) -> Prepared:
    execution = await uow.executions.get(delivery.execution_id)
    if execution is None:
        return _refused("the execution is gone")
    if delivery.kind is DeliveryKind.CALLBACK:
        secrets = await active_secrets(uow, box, delivery.tenant_id, now)
        if not secrets:
            return _refused("the tenant has no webhook secret to sign with")
        body = execution_event(execution)
        return Prepared(callback=(delivery.target, body, delivery.message_id, secrets[0]))
    configured = await uow.ticket_systems.get(delivery.tenant_id)
    if configured is None:
        reason = "no ticket system is configured for the tenant"
        return Prepared(outcome=AttemptOutcome(False, error=reason), skip_reason=reason)
    config, sealed = configured
    credentials = json.loads(box.open(sealed, credentials_context(config)))
    text = execution.output or ""
    return Prepared(writeback=(config.kind, config.base_url, credentials, delivery.target, text))
