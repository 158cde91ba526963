"""One tenant, with the HTTP app over PostgreSQL and a fake gateway we can inspect and break,
for the integration tests of providers and executions (each adds its own helpers)."""

import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any, TypeVar

import httpx
from sqlalchemy.ext.asyncio import AsyncEngine

from adapters.nacl.secret_box import NaclSecretBox
from adapters.sqlalchemy.unit_of_work import SqlUnitOfWork
from adapters.system import SystemClock
from application.use_cases.services import LlmServices
from tests.support.llm_helpers import FlakyGateway, admin_query, new_tenant
from tests.support.sql_app import TEST_SECRET_KEYS, sql_client


@dataclass
class TenantEnv:
    client: httpx.AsyncClient
    gateway: FlakyGateway
    operator: dict[str, str]
    tenant_id: str
    headers: dict[str, str]
    db: str

    def rows(self, sql: str, **params: Any) -> list[Any]:
        """Superuser SQL (no row-level security), with `:tenant` bound to this tenant."""
        return admin_query(self.db, sql, tenant=uuid.UUID(self.tenant_id), **params)

    def services(self, engine: AsyncEngine) -> LlmServices:
        """The use cases' services over this gateway, for calling them directly."""
        box = NaclSecretBox.from_env_value(TEST_SECRET_KEYS)
        return LlmServices(self.gateway, box, SystemClock(), lambda: SqlUnitOfWork(engine))


class ProviderEnv(TenantEnv):
    def url(self, suffix: str = "", tenant_id: str | None = None) -> str:
        return f"/api/tenants/{tenant_id or self.tenant_id}/providers{suffix}"


Env = TypeVar("Env", bound=TenantEnv)


@asynccontextmanager
async def tenant_env(
    kind: type[Env], sql_engine: AsyncEngine, migrated_db: str, operator: dict[str, str]
) -> AsyncIterator[Env]:
    gateway = FlakyGateway()
    async with sql_client(sql_engine, gateway) as client:
        tenant_id, headers = await new_tenant(client, operator)
        yield kind(client, gateway, operator, tenant_id, headers, migrated_db)
