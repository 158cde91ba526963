"""The tenant: the unit of isolation. Everything else belongs to exactly one tenant."""

import uuid
from dataclasses import dataclass, field
from datetime import datetime

from domain import validation


@dataclass(slots=True, eq=False)
class Tenant:
    id: uuid.UUID
    name: str
    admin_email: str
    created_at: datetime
    updated_at: datetime
    # The agent that ticket webhooks run; must be one of this tenant's agents.
    ticket_agent_id: uuid.UUID | None = field(default=None)

    def __post_init__(self) -> None:
        validation.name("name", self.name)
        validation.email("admin_email", self.admin_email)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Tenant) and other.id == self.id

    def __hash__(self) -> int:
        return hash(self.id)

    def rename(self, name: str, now: datetime) -> None:
        self.name = validation.name("name", name)
        self.updated_at = now

    def change_admin_email(self, admin_email: str, now: datetime) -> None:
        self.admin_email = validation.email("admin_email", admin_email)
        self.updated_at = now

    def choose_ticket_agent(self, agent_id: uuid.UUID | None, now: datetime) -> None:
        self.ticket_agent_id = agent_id
        self.updated_at = now
