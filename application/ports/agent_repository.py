import uuid
from typing import Protocol

from application.ports.page import Page
from domain.agent import Agent, AgentStatus


class AgentRepository(Protocol):
    """Agents visible in the unit of work's scope."""

    async def add(self, agent: Agent) -> None:
        """Raises Conflict on a duplicate name within the tenant, NotFound('Tenant') if the
        tenant does not exist (outside the scope included): here, or at the next statement
        or the commit for an adapter that sends the INSERT with those."""

    async def get(self, agent_id: uuid.UUID) -> Agent | None: ...

    def prefetch(self, agent: uuid.UUID | str, *, to_run: bool = False) -> None:
        """A hint, given before the unit of work is scoped: it is about to read this agent
        (an id: `get`; a name: `by_name` in the caller's tenant) and, `to_run`, if the
        agent uses BYOK, to list its tenant's providers. An adapter may read them along
        with its first statement; `get`, `by_name` and `list` answer the same."""

    async def by_name(self, tenant_id: uuid.UUID, name: str) -> Agent | None:
        """The tenant's agent of that name (names are unique per tenant), if visible in
        the scope; None for any name no agent has (blank, too long, NUL included)."""
        ...

    async def list(
        self, tenant_id: uuid.UUID | None, page: Page, *, status: AgentStatus | None = None
    ) -> list[Agent]:
        """Oldest first; `tenant_id=None` lists every visible agent; `status`, only those
        in it (paged after the filter)."""
        ...

    async def update(self, agent: Agent) -> None:
        """Raises Conflict on a duplicate name within the tenant."""

    async def delete(self, agent_id: uuid.UUID) -> bool: ...
