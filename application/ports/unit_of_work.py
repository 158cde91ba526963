from collections.abc import Callable
from types import TracebackType
from typing import Protocol, Self

from application.ports.agent_repository import AgentRepository
from application.ports.api_key_repository import ApiKeyRepository
from application.ports.delivery_repository import DeliveryRepository
from application.ports.execution_repository import ExecutionRepository
from application.ports.idempotency_repository import IdempotencyRepository
from application.ports.mcp_server_repository import McpServerRepository
from application.ports.orphan_repository import OrphanRepository
from application.ports.provider_repository import ProviderRepository
from application.ports.tenant_repository import TenantRepository
from application.ports.ticket_system_repository import TicketSystemRepository
from application.ports.webhook_receipt_repository import WebhookReceiptRepository
from application.ports.webhook_secret_repository import WebhookSecretRepository
from domain.principal import Principal


class UnitOfWork(Protocol):
    """One transaction, one caller's view of the data.

    A unit of work starts with no scope and sees no tenant-owned rows (fail closed).
    `authenticate` or `scope_to` give it the caller's scope; in SQL that is the tenant
    context of the transaction, enforced by row-level security. Leaving the context
    without `commit` rolls back. Never share one between requests or jobs.
    """

    @property
    def tenants(self) -> TenantRepository: ...

    @property
    def agents(self) -> AgentRepository: ...

    @property
    def api_keys(self) -> ApiKeyRepository: ...

    @property
    def providers(self) -> ProviderRepository: ...

    @property
    def executions(self) -> ExecutionRepository: ...

    @property
    def orphans(self) -> OrphanRepository: ...

    @property
    def idempotency(self) -> IdempotencyRepository: ...

    @property
    def webhook_secrets(self) -> WebhookSecretRepository: ...

    @property
    def ticket_systems(self) -> TicketSystemRepository: ...

    @property
    def webhook_receipts(self) -> WebhookReceiptRepository: ...

    @property
    def deliveries(self) -> DeliveryRepository: ...

    @property
    def mcp_servers(self) -> McpServerRepository: ...

    async def __aenter__(self) -> Self: ...

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None: ...

    async def authenticate(self, key_hash: bytes) -> Principal | None:
        """Resolve a key hash to its principal and scope this unit of work to it."""
        ...

    async def scope_to(self, principal: Principal) -> None:
        """Scope to a principal the process already trusts (CLI operator, worker jobs)."""

    async def commit(self) -> None: ...


UnitOfWorkFactory = Callable[[], UnitOfWork]
