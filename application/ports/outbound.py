"""Ports to the outside world of deliveries and webhooks: sending callbacks, writing to
ticket systems, checking URLs, queueing attempts, verifying signatures."""

import uuid
from collections.abc import Mapping
from typing import Protocol

from domain.delivery import AttemptOutcome
from domain.ticket import TicketSystemKind


class CallbackSender(Protocol):
    async def post(self, url: str, body: bytes, message_id: str, secret: str) -> AttemptOutcome:
        """POST `body` once, signed with `secret` on the Standard Webhooks scheme as
        `message_id` (a fresh timestamp per try); no redirects followed; the target checked
        against the outbound address rules again. Never raises for what the receiver or
        the network did."""
        ...


class TicketSystem(Protocol):
    async def add_note(self, ticket_id: str, text: str) -> AttemptOutcome:
        """Add `text` to the ticket as a comment or note; never raises for what the
        remote system did (the outcome says whether a retry may help)."""
        ...


class TicketSystemFactory(Protocol):
    def __call__(
        self, kind: TicketSystemKind, base_url: str, credentials: Mapping[str, str]
    ) -> TicketSystem: ...


class UrlGuard(Protocol):
    async def check(self, url: str, field: str) -> None:
        """InvalidValue(field) if the URL may not be called on a tenant's behalf (it
        resolves to loopback, private, link-local or metadata addresses)."""


class DeliveryQueue(Protocol):
    async def enqueue_delivery(
        self, delivery_id: uuid.UUID, tenant_id: uuid.UUID, attempt: int
    ) -> None:
        """Hand one attempt to a worker; QueueUnavailable if the broker cannot take it."""


class WebhookVerifier(Protocol):
    def verify(self, body: bytes, headers: Mapping[str, str], secrets: list[str]) -> list[str]:
        """The keys this delivery is known by (its delivery id, ...), when one of `secrets`
        signed it; else InvalidSignature. Only the raw bytes are checked, nothing parsed."""
        ...
