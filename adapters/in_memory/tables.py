"""All staged tables of one in-memory unit of work, and the rules that span tables."""

import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol, TypeVar

from adapters.in_memory.staged_table import StagedTable
from adapters.in_memory.store import InMemoryStore, McpServerRow, ProviderRow
from application.ports.orphan_repository import GatewayOrphan
from domain.agent import Agent
from domain.api_key import ApiKey
from domain.errors import NotFound
from domain.execution import Execution
from domain.tenant import Tenant

InScope = Callable[[uuid.UUID | None], bool]


class _TenantOwned(Protocol):
    @property
    def id(self) -> uuid.UUID: ...

    @property
    def tenant_id(self) -> uuid.UUID | None: ...


Owned = TypeVar("Owned", bound=_TenantOwned)


def _remove_tenant_rows(table: StagedTable[Owned], tenant_id: uuid.UUID) -> None:
    for row in list(table.all_rows_unscoped()):
        if row.tenant_id == tenant_id:
            table.remove(row.id)


@dataclass
class Tables:
    tenants: StagedTable[Tenant]
    agents: StagedTable[Agent]
    keys: StagedTable[ApiKey]
    providers: StagedTable[ProviderRow]
    executions: StagedTable[Execution]
    orphans: StagedTable[GatewayOrphan]
    idempotency: StagedTable[Any]
    in_scope: InScope
    mcp_servers: StagedTable[McpServerRow]
    webhook_secrets: StagedTable[Any] = field(init=False)
    ticket_systems: StagedTable[Any] = field(init=False)
    webhook_receipts: StagedTable[Any] = field(init=False)
    deliveries: StagedTable[Any] = field(init=False)
    delivery_attempts: StagedTable[Any] = field(init=False)

    def _add_webhook_tables(self, store: InMemoryStore) -> None:
        def owned(row: Any) -> bool:
            return self.in_scope(row.tenant_id)

        self.webhook_secrets = StagedTable(store.webhook_secrets, owned)
        self.ticket_systems = StagedTable(store.ticket_systems, owned)
        self.webhook_receipts = StagedTable(store.webhook_receipts, owned)
        self.deliveries = StagedTable(store.deliveries, owned)
        self.delivery_attempts = StagedTable(store.delivery_attempts, owned)

    @classmethod
    def over(
        cls, store: InMemoryStore, in_scope: InScope, operator: Callable[[], bool]
    ) -> "Tables":
        tables = cls(
            tenants=StagedTable(store.tenants, lambda t: in_scope(t.id)),
            agents=StagedTable(store.agents, lambda a: in_scope(a.tenant_id)),
            keys=StagedTable(store.api_keys, lambda k: in_scope(k.tenant_id)),
            providers=StagedTable(store.providers, lambda p: in_scope(p.tenant_id)),
            executions=StagedTable(store.executions, lambda e: in_scope(e.tenant_id)),
            orphans=StagedTable(store.orphans, lambda _: operator()),
            idempotency=StagedTable(store.idempotency, lambda r: in_scope(r.tenant_id)),
            in_scope=in_scope,
            mcp_servers=StagedTable(store.mcp_servers, lambda m: in_scope(m.tenant_id)),
        )
        tables._add_webhook_tables(store)
        return tables

    def all(self) -> tuple[StagedTable[Any], ...]:
        return (
            self.tenants,
            self.agents,
            self.keys,
            self.providers,
            self.executions,
            self.orphans,
            self.idempotency,
            self.webhook_secrets,
            self.ticket_systems,
            self.webhook_receipts,
            self.deliveries,
            self.delivery_attempts,
            self.mcp_servers,
        )

    def require_tenant(self, tenant_id: uuid.UUID | None) -> None:
        """Row-level security's WITH CHECK, then the tenant foreign key."""
        if not self.in_scope(tenant_id) or (
            tenant_id is not None and self.tenants.get(tenant_id) is None
        ):
            raise NotFound("Tenant")

    def cascade_tenant(self, tenant_id: uuid.UUID) -> None:
        """ON DELETE CASCADE from tenants (providers RESTRICT it instead)."""
        _remove_tenant_rows(self.agents, tenant_id)
        _remove_tenant_rows(self.keys, tenant_id)
        _remove_tenant_rows(self.executions, tenant_id)
        _remove_tenant_rows(self.idempotency, tenant_id)
        for table in (self.webhook_secrets, self.ticket_systems, self.webhook_receipts):
            _remove_tenant_rows(table, tenant_id)
        _remove_tenant_rows(self.deliveries, tenant_id)
        _remove_tenant_rows(self.delivery_attempts, tenant_id)
        _remove_tenant_rows(self.mcp_servers, tenant_id)
