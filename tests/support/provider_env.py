"""A tenant with the HTTP app over PostgreSQL and a fake gateway we can inspect and break,
for the BYOK provider integration tests."""

import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

import httpx
from sqlalchemy.ext.asyncio import AsyncEngine

from adapters.nacl.secret_box import NaclSecretBox
from adapters.sqlalchemy.unit_of_work import SqlUnitOfWork
from adapters.system import SystemClock
from application.use_cases.services import LlmServices
from tests.support.llm_helpers import FlakyGateway, admin_query, new_tenant
from tests.support.sql_app import TEST_SECRET_KEYS, sql_client


@dataclass
class Env:
    client: httpx.AsyncClient
    gateway: FlakyGateway
    operator: dict[str, str]
    tenant_id: str
    headers: dict[str, str]
    db: str

    def url(self, suffix: str = "", tenant_id: str | None = None) -> str:
        return f"/api/tenants/{tenant_id or self.tenant_id}/providers{suffix}"

    def rows(self, sql: str, **params: Any) -> list[Any]:
        return admin_query(self.db, sql, tenant=uuid.UUID(self.tenant_id), **params)


@asynccontextmanager
async def provider_env(
    sql_engine: AsyncEngine, migrated_db: str, operator: dict[str, str]
) -> AsyncIterator[Env]:
    gateway = FlakyGateway()
    async with sql_client(sql_engine, gateway) as client:
        tenant_id, headers = await new_tenant(client, operator)
        yield Env(client, gateway, operator, tenant_id, headers, migrated_db)


def services(env: Env, engine: AsyncEngine) -> LlmServices:
    box = NaclSecretBox.from_env_value(TEST_SECRET_KEYS)
    return LlmServices(env.gateway, box, SystemClock(), lambda: SqlUnitOfWork(engine))
