import hmac
import uuid
from types import TracebackType
from typing import Self

from adapters.in_memory.repositories import (
    InMemoryAgentRepository,
    InMemoryApiKeyRepository,
    InMemoryTenantRepository,
)
from adapters.in_memory.staged_table import StagedTable
from adapters.in_memory.store import InMemoryStore
from domain.principal import Principal


class InMemoryUnitOfWork:
    """Stages changes and applies them on commit; scope works like the SQL tenant context."""

    def __init__(self, store: InMemoryStore) -> None:
        self._store = store
        self._scope: Principal | None = None
        self._tenants = StagedTable(store.tenants, lambda t: self._in_scope(t.id))
        self._agents = StagedTable(store.agents, lambda a: self._in_scope(a.tenant_id))
        self._keys = StagedTable(store.api_keys, lambda k: self._in_scope(k.tenant_id))
        self.tenants = InMemoryTenantRepository(
            self._tenants, self._agents, self._keys, self._in_scope
        )
        self.agents = InMemoryAgentRepository(self._agents, self._tenants, self._in_scope)
        self.api_keys = InMemoryApiKeyRepository(self._keys, self._tenants, self._in_scope)

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
        self._rollback()

    def _rollback(self) -> None:
        for table in (self._tenants, self._agents, self._keys):
            table.discard()
        self._scope = None

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
            for table in (self._tenants, self._agents, self._keys):
                table.apply()
