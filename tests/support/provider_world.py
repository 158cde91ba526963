"""One tenant over the in-memory adapters and a fake gateway that can fail on demand, for
the BYOK provider use-case tests."""

import uuid
from dataclasses import dataclass

from adapters.in_memory.store import InMemoryStore
from adapters.in_memory.unit_of_work import InMemoryUnitOfWork
from adapters.system import SystemClock
from application.ports.orphan_repository import GatewayOrphan
from application.use_cases.providers import CreateProvider, NewProvider, ProviderWithKey
from application.use_cases.services import LlmServices
from domain.principal import Principal
from tests.support.factories import a_tenant
from tests.support.llm_helpers import FlakyGateway, box_of, canary

BOX = box_of("unit")


@dataclass
class World:
    store: InMemoryStore
    gateway: FlakyGateway
    tenant_id: uuid.UUID
    tenant: Principal

    @property
    def services(self) -> LlmServices:
        return LlmServices(self.gateway, BOX, SystemClock(), self.uow)

    def uow(self) -> InMemoryUnitOfWork:
        return InMemoryUnitOfWork(self.store)

    async def scoped(self, principal: Principal | None = None) -> InMemoryUnitOfWork:
        work = self.uow()
        await work.scope_to(principal or self.tenant)
        return work

    async def create(self, **fields: object) -> ProviderWithKey:
        values = {"provider_name": "openai", "api_key": canary(), "model": "gpt-4o-mini", **fields}
        new = NewProvider(**values)  # type: ignore[arg-type]
        return await CreateProvider(await self.scoped(), self.services)(
            self.tenant, self.tenant_id, new
        )

    def orphans(self) -> list[GatewayOrphan]:
        return list(self.store.orphans.values())


def a_world() -> World:
    store = InMemoryStore()
    tenant = a_tenant()
    store.tenants[tenant.id] = tenant
    return World(store, FlakyGateway(), tenant.id, Principal(tenant.id, tenant.id))
