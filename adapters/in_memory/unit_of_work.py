import hmac
import uuid
from types import TracebackType
from typing import Self

from adapters.in_memory.deliveries import InMemoryDeliveryRepository
from adapters.in_memory.executions import InMemoryExecutionRepository
from adapters.in_memory.idempotency import InMemoryIdempotencyRepository
from adapters.in_memory.mcp_servers import InMemoryMcpServerRepository
from adapters.in_memory.orphans import InMemoryOrphanRepository
from adapters.in_memory.providers import InMemoryProviderRepository
from adapters.in_memory.repositories import (
    InMemoryAgentRepository,
    InMemoryApiKeyRepository,
    InMemoryTenantRepository,
)
from adapters.in_memory.store import InMemoryStore
from adapters.in_memory.tables import Tables
from adapters.in_memory.webhooks import (
    InMemoryTicketSystemRepository,
    InMemoryWebhookReceiptRepository,
    InMemoryWebhookSecretRepository,
)
from domain.principal import Principal


class InMemoryUnitOfWork:
    """Stages changes and applies them on commit; scope works like the SQL tenant context."""

    def __init__(self, store: InMemoryStore) -> None:
        self._store = store
        self._scope: Principal | None = None
        self._tables = Tables.over(store, self._in_scope, self._is_operator)
        self.tenants = InMemoryTenantRepository(self._tables)
        self.agents = InMemoryAgentRepository(self._tables)
        self.api_keys = InMemoryApiKeyRepository(self._tables)
        self.providers = InMemoryProviderRepository(self._tables)
        self.executions = InMemoryExecutionRepository(self._tables)
        self.orphans = InMemoryOrphanRepository(self._tables)
        self.webhook_secrets = InMemoryWebhookSecretRepository(self._tables)
        self.ticket_systems = InMemoryTicketSystemRepository(self._tables)
        self.webhook_receipts = InMemoryWebhookReceiptRepository(self._tables)
        self.deliveries = InMemoryDeliveryRepository(self._tables)
        self.mcp_servers = InMemoryMcpServerRepository(self._tables)
        self._locks: set[uuid.UUID] = set()
        self.idempotency = InMemoryIdempotencyRepository(
            self._tables, store.idempotency_locks, self._locks
        )

    def _is_operator(self) -> bool:
        return self._scope is not None and self._scope.is_operator

    def _in_scope(self, tenant_id: uuid.UUID | None) -> bool:
        scope = self._scope
        if scope is None:
            return False  # fail closed, like a transaction with no tenant context
        return scope.is_operator or (tenant_id is not None and tenant_id == scope.tenant_id)

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        for table in self._tables.all():
            table.discard()
        self._release_locks()
        self._scope = None

    def _release_locks(self) -> None:
        self._store.idempotency_locks.difference_update(self._locks)
        self._locks.clear()

    async def authenticate(self, key_hash: bytes) -> Principal | None:
        key = self.api_keys.find_by_hash(key_hash)
        if key is None or not hmac.compare_digest(key.key_hash, key_hash):
            return None
        self._scope = Principal(key_id=key.id, tenant_id=key.tenant_id)
        return self._scope

    async def scope_to(self, principal: Principal) -> None:
        self._scope = principal

    async def commit(self) -> None:
        async with self._store.commit_lock:
            for table in self._tables.all():
                table.apply()
        self._release_locks()
        self._scope = None  # like the SQL one: a committed unit of work is over
