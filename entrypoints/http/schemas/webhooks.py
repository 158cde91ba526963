import uuid
from datetime import datetime
from typing import Annotated

from msgspec import Meta, Struct

from application.use_cases.execution_deliveries import DeliveryRecord
from domain.delivery import Delivery, DeliveryKind, DeliveryStatus
from domain.ticket import TicketSystemConfig, TicketSystemKind

Secret = Annotated[str, Meta(min_length=1, max_length=4096)]


class WebhookSecretOut(Struct):
    id: uuid.UUID
    secret: str  # shown once
    created_at: datetime


class JobOut(Struct):
    job_id: uuid.UUID


class TicketSystemIn(Struct, forbid_unknown_fields=True):
    kind: TicketSystemKind
    base_url: Annotated[str, Meta(min_length=8, max_length=2048)]
    # jira: {email, api_token}; servicedesk_plus: {authtoken} or {oauth_token}
    credentials: dict[Annotated[str, Meta(min_length=1, max_length=50)], Secret]


class TicketSystemOut(Struct):
    id: uuid.UUID
    tenant_id: uuid.UUID
    kind: TicketSystemKind
    base_url: str
    created_at: datetime
    updated_at: datetime

    @classmethod
    def of(cls, c: TicketSystemConfig) -> "TicketSystemOut":
        return cls(c.id, c.tenant_id, c.kind, c.base_url, c.created_at, c.updated_at)


class AttemptOut(Struct):
    number: int
    started_at: datetime
    finished_at: datetime
    delivered: bool
    status_code: int | None
    error: str | None
    response_excerpt: str | None


class DeliveryOut(Struct):
    id: uuid.UUID
    execution_id: uuid.UUID
    kind: DeliveryKind
    target: str
    webhook_id: str
    status: DeliveryStatus
    attempts: int
    next_attempt_at: datetime | None
    last_error: str | None
    created_at: datetime
    attempt_log: list[AttemptOut]

    @classmethod
    def of(cls, record: DeliveryRecord) -> "DeliveryOut":
        d = record.delivery
        return cls(
            id=d.id,
            execution_id=d.execution_id,
            kind=d.kind,
            target=d.target,
            webhook_id=d.message_id,
            status=d.status,
            attempts=d.attempts,
            next_attempt_at=d.next_attempt_at,
            last_error=d.last_error,
            created_at=d.created_at,
            attempt_log=[
                AttemptOut(
                    a.number,
                    a.started_at,
                    a.finished_at,
                    a.delivered,
                    a.status_code,
                    a.error,
                    a.response_excerpt,
                )
                for a in record.attempts
            ],
        )


class WriteBackOut(Struct):
    """The ticket write-back of a webhook job, as GET /api/executions/{id} shows it."""

    status: DeliveryStatus
    attempts: int
    last_error: str | None

    @classmethod
    def of(cls, d: Delivery) -> "WriteBackOut":
        return cls(d.status, d.attempts, d.last_error)
