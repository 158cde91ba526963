"""Deleting a tenant over PostgreSQL while its tenant keeps creating providers: no gateway
key outlives its provider row (fk_llm_providers_tenant_id is ON DELETE RESTRICT)."""

from collections.abc import AsyncIterator
from dataclasses import dataclass

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from tests.support.llm_helpers import (
    FlakyGateway,
    add_provider,
    admin_query,
    new_tenant,
    provider_body,
)
from tests.support.sql_app import sql_client

pytestmark = pytest.mark.postgres


@dataclass
class Env:
    client: httpx.AsyncClient
    gateway: FlakyGateway
    operator: dict[str, str]
    tenant_id: str
    headers: dict[str, str]


@pytest.fixture
async def env(sql_engine: AsyncEngine, operator: dict[str, str]) -> AsyncIterator[Env]:
    gateway = FlakyGateway()
    async with sql_client(sql_engine, gateway) as client:
        tenant_id, headers = await new_tenant(client, operator)
        yield Env(client, gateway, operator, tenant_id, headers)


async def test_a_provider_created_during_the_delete_has_its_key_revoked(
    env: Env, migrated_db: str
) -> None:
    await add_provider(env.client, env.tenant_id, env.headers)
    revoke, late = env.gateway.revoke_key, list[httpx.Response]()

    async def a_provider_is_created_first(key: str) -> None:
        # The delete has committed its marks; the tenant's own key adds a provider now.
        if not late:
            body = provider_body(provider_name="anthropic")
            late.append(
                await env.client.post(
                    f"/api/tenants/{env.tenant_id}/providers", json=body, headers=env.headers
                )
            )
        await revoke(key)

    env.gateway.revoke_key = a_provider_is_created_first  # type: ignore[method-assign]
    deleted = await env.client.delete(f"/api/tenants/{env.tenant_id}", headers=env.operator)
    assert deleted.status_code == 204, deleted.text
    assert late[0].status_code == 201, late[0].text
    registry = env.gateway.registry
    assert registry.key_info(late[0].json()["virtual_key"]).status == "revoked"
    assert env.gateway.live_keys() == [] and registry.deployments == {}
    for table in ("tenants", "llm_providers"):
        column = "id" if table == "tenants" else "tenant_id"
        sql = f"SELECT 1 FROM {table} WHERE {column} = :t"
        assert admin_query(migrated_db, sql, t=env.tenant_id) == []
