"""BYOK providers over PostgreSQL when deletes, rotations and creations race: no gateway key
outlives its provider row, none is revoked while a row still holds it."""

import uuid

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from adapters.sqlalchemy.unit_of_work import SqlUnitOfWork
from application.ports.llm_types import VirtualKey
from application.use_cases.provider_removal import DeleteProvider, ReconcileGateway
from application.use_cases.tenants import DeleteTenant
from domain.principal import CONSOLE_OPERATOR, Principal
from domain.provider import LlmProvider
from tests.support.llm_helpers import (
    add_provider,
    provider_body,
)
from tests.support.tenant_env import ProviderEnv as Env

pytestmark = pytest.mark.postgres


async def test_rotation_racing_a_delete_leaks_nothing(env: Env) -> None:
    created = await add_provider(env.client, env.tenant_id, env.headers)

    def concurrent_delete(method: str) -> None:
        if method == "create_virtual_key":
            env.rows("DELETE FROM llm_providers WHERE id = :id", id=uuid.UUID(created["id"]))

    env.gateway.on_call = concurrent_delete
    response = await env.client.post(
        env.url(f"/{created['id']}/rotate"), json={}, headers=env.headers
    )
    assert response.status_code == 404
    assert env.gateway.live_keys() == [] and env.gateway.registry.deployments == {}


async def test_delete_racing_a_rotation_revokes_the_key_the_row_holds(
    env: Env, sql_engine: AsyncEngine
) -> None:
    created = await add_provider(env.client, env.tenant_id, env.headers)
    tenant_id = uuid.UUID(env.tenant_id)
    tenant = Principal(key_id=tenant_id, tenant_id=tenant_id)
    rotated: list[httpx.Response] = []
    async with SqlUnitOfWork(sql_engine) as uow:
        await uow.scope_to(tenant)
        read = uow.providers.get

        async def rotation_commits_right_after_the_read(
            provider_id: uuid.UUID,
        ) -> LlmProvider | None:
            provider = await read(provider_id)
            if not rotated:  # its own connection and transaction, committed before the mark
                rotated.append(
                    await env.client.post(
                        env.url(f"/{provider_id}/rotate"), json={}, headers=env.headers
                    )
                )
            return provider

        uow.providers.get = rotation_commits_right_after_the_read  # type: ignore[method-assign]
        done = await DeleteProvider(uow, env.services(sql_engine))(
            tenant, tenant_id, uuid.UUID(created["id"])
        )
    assert rotated[0].status_code == 200, rotated[0].text
    assert done is True
    registry = env.gateway.registry
    assert registry.key_info(rotated[0].json()["virtual_key"]).status == "revoked"
    assert env.gateway.live_keys() == [] and registry.deployments == {}
    assert env.rows("SELECT id FROM llm_providers WHERE tenant_id = :tenant") == []
    assert env.rows("SELECT id FROM gateway_orphans WHERE tenant_id = :tenant") == []


async def test_rotation_after_a_delete_marked_the_row_is_refused(
    env: Env, sql_engine: AsyncEngine
) -> None:
    created = await add_provider(env.client, env.tenant_id, env.headers)

    def delete_marks_the_row(method: str) -> None:  # and cannot reach the gateway yet
        if method == "create_virtual_key":
            env.rows(
                "UPDATE llm_providers SET status = 'revoking' WHERE id = :id",
                id=uuid.UUID(created["id"]),
            )

    env.gateway.on_call = delete_marks_the_row
    response = await env.client.post(
        env.url(f"/{created['id']}/rotate"), json={}, headers=env.headers
    )
    assert response.status_code == 404, response.text
    [row] = env.rows("SELECT status, virtual_key_id FROM llm_providers WHERE tenant_id = :tenant")
    old_key_id = env.gateway.registry.keys[created["virtual_key"]].token_id
    assert (row.status, row.virtual_key_id) == ("revoking", old_key_id)  # nothing written
    env.gateway.on_call = None
    async with SqlUnitOfWork(sql_engine) as uow:
        await ReconcileGateway(uow, env.services(sql_engine))()
    assert env.rows("SELECT id FROM llm_providers WHERE tenant_id = :tenant") == []
    assert env.gateway.live_keys() == [] and env.gateway.registry.deployments == {}


async def test_tenant_delete_racing_a_rotation_revokes_the_key_the_row_holds(
    env: Env, sql_engine: AsyncEngine
) -> None:
    made = [
        await add_provider(env.client, env.tenant_id, env.headers, provider_name=name)
        for name in ("openai", "anthropic")
    ]
    rotated: list[httpx.Response] = []
    async with SqlUnitOfWork(sql_engine) as uow:
        await uow.scope_to(CONSOLE_OPERATOR)
        listed = uow.providers.list

        async def rotation_commits_right_after_the_read(
            tenant_id: uuid.UUID | None,
        ) -> list[LlmProvider]:
            providers = await listed(tenant_id)
            # Its own connection and transaction, committed before the delete goes on.
            rotated.append(
                await env.client.post(
                    env.url(f"/{made[1]['id']}/rotate"), json={}, headers=env.headers
                )
            )
            return providers

        uow.providers.list = rotation_commits_right_after_the_read  # type: ignore[method-assign]
        await DeleteTenant(uow, env.services(sql_engine))(
            CONSOLE_OPERATOR, uuid.UUID(env.tenant_id)
        )
    assert rotated[0].status_code == 200, rotated[0].text
    registry = env.gateway.registry
    assert registry.key_info(rotated[0].json()["virtual_key"]).status == "revoked"
    assert env.gateway.live_keys() == [] and registry.deployments == {}
    assert env.rows("SELECT id FROM tenants WHERE id = :tenant") == []
    assert env.rows("SELECT id FROM llm_providers WHERE tenant_id = :tenant") == []
    assert env.rows("SELECT id FROM gateway_orphans WHERE tenant_id = :tenant") == []


async def test_rotation_during_a_tenant_delete_is_refused_and_leaks_nothing(env: Env) -> None:
    created = await add_provider(env.client, env.tenant_id, env.headers)
    mint = env.gateway.create_virtual_key
    deleted: list[httpx.Response] = []

    async def tenant_delete_first(
        models: list[str], alias: str, max_budget: float | None, metadata: dict[str, str]
    ) -> VirtualKey:
        # While the rotation mints its key, the whole tenant delete runs and commits.
        deleted.append(
            await env.client.delete(f"/api/tenants/{env.tenant_id}", headers=env.operator)
        )
        return await mint(models, alias, max_budget, metadata)

    env.gateway.create_virtual_key = tenant_delete_first  # type: ignore[method-assign]
    response = await env.client.post(
        env.url(f"/{created['id']}/rotate"), json={}, headers=env.headers
    )
    assert deleted[0].status_code == 204, deleted[0].text
    assert response.status_code == 404, response.text
    assert env.gateway.live_keys() == [] and env.gateway.registry.deployments == {}
    assert env.rows("SELECT id FROM tenants WHERE id = :tenant") == []
    assert env.rows("SELECT id FROM llm_providers WHERE tenant_id = :tenant") == []
    assert env.rows("SELECT id FROM gateway_orphans WHERE tenant_id = :tenant") == []


async def test_a_provider_created_during_a_tenant_delete_has_its_key_revoked(env: Env) -> None:
    """fk_llm_providers_tenant_id is ON DELETE RESTRICT: it is not cascaded with a live key."""
    await add_provider(env.client, env.tenant_id, env.headers)
    revoke, late = env.gateway.revoke_key, list[httpx.Response]()

    async def a_provider_is_created_first(key: str) -> None:
        # The delete has committed its marks; the tenant's own key adds a provider now.
        if not late:
            body = provider_body(provider_name="anthropic")
            late.append(await env.client.post(env.url(), json=body, headers=env.headers))
        await revoke(key)

    env.gateway.revoke_key = a_provider_is_created_first  # type: ignore[method-assign]
    deleted = await env.client.delete(f"/api/tenants/{env.tenant_id}", headers=env.operator)
    assert deleted.status_code == 204, deleted.text
    assert late[0].status_code == 201, late[0].text
    registry = env.gateway.registry
    assert registry.key_info(late[0].json()["virtual_key"]).status == "revoked"
    assert env.gateway.live_keys() == [] and registry.deployments == {}
    assert env.rows("SELECT id FROM tenants WHERE id = :tenant") == []
    assert env.rows("SELECT id FROM llm_providers WHERE tenant_id = :tenant") == []
