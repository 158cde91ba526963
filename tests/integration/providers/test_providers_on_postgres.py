"""BYOK providers through HTTP over PostgreSQL, with a fake gateway we can inspect and break."""

from typing import Any

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from adapters.sqlalchemy.unit_of_work import SqlUnitOfWork
from application.gateway_errors import GatewayUnavailable
from application.use_cases.provider_removal import ReconcileGateway
from tests.support.llm_helpers import (
    add_provider,
    canary,
    new_tenant,
    provider_body,
)
from tests.support.tenant_env import ProviderEnv as Env

pytestmark = pytest.mark.postgres
CONTRACT_FIELDS = {"id", "tenant_id", "provider_name", "model", "status", "key_hint"} | {
    "max_budget", "created_at",
}  # fmt: skip


async def test_create_binds_the_gateway_and_never_returns_the_key(env: Env) -> None:
    api_key = canary()
    body = provider_body(api_key=api_key, max_budget=10.0, api_base="https://llm.example.com/v1")
    response = await env.client.post(env.url(), json=body, headers=env.headers)
    assert response.status_code == 201, response.text
    created = response.json()
    assert CONTRACT_FIELDS | {"virtual_key"} <= set(created) and "api_key" not in created
    assert created["virtual_key"].startswith("sk-") and created["key_hint"] == "..." + api_key[-4:]
    assert (created["status"], created["max_budget"]) == ("active", 10.0)
    assert api_key not in response.text
    name = f"agentkeel-{env.tenant_id}-{created['id']}"
    [deployment] = env.gateway.registry.deployments.values()
    assert (deployment.model_name, deployment.litellm_model) == (name, "openai/gpt-4o-mini")
    assert (deployment.provider_api_key, deployment.api_base) == (api_key, body["api_base"])
    key = env.gateway.registry.keys[created["virtual_key"]]
    assert (key.models, key.max_budget) == ([name], 10.0)
    assert key.metadata == {"tenant_id": env.tenant_id, "provider_id": created["id"]}
    listed = await env.client.get(env.url(), headers=env.headers)
    one = await env.client.get(env.url(f"/{created['id']}"), headers=env.headers)
    assert [p["id"] for p in listed.json()] == [created["id"]] and one.status_code == 200
    for shown in (listed.json()[0], one.json()):
        assert set(shown) >= CONTRACT_FIELDS and not {"virtual_key", "api_key"} & set(shown)
        assert shown["key_hint"] == created["key_hint"]
    for text in (listed.text, one.text):
        assert api_key not in text and created["virtual_key"] not in text
    [(kid, status)] = env.rows(
        "SELECT api_key_kid, status FROM llm_providers WHERE tenant_id = :tenant"
    )
    assert (kid, status) == ("test", "active")


async def test_duplicate_name_is_409_and_the_gateway_is_untouched(env: Env) -> None:
    await add_provider(env.client, env.tenant_id, env.headers)
    env.gateway.log.clear()
    again = await env.client.post(env.url(), json=provider_body(), headers=env.headers)
    assert again.status_code == 409 and env.gateway.log == []


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("provider_name", "not-a-provider"),
        ("api_key", ""),
        ("api_key", " " * 12),
        ("api_key", "sk-has a space-123"),
        ("api_base", "ftp://llm.example.com"),
        ("api_base", "not a url"),
        ("max_budget", 0),
        ("max_budget", -5),
    ],
)
async def test_invalid_bodies_are_422_before_the_gateway(env: Env, field: str, value: Any) -> None:
    response = await env.client.post(
        env.url(), json=provider_body(**{field: value}), headers=env.headers
    )
    assert response.status_code == 422, response.text
    assert any(e["loc"][-1] == field for e in response.json()["detail"])
    assert env.gateway.log == []
    assert (await env.client.get(env.url(), headers=env.headers)).json() == []


async def test_minting_failure_is_502_and_leaves_nothing(env: Env) -> None:
    env.gateway.fail_next(GatewayUnavailable("down"), "create_virtual_key")
    response = await env.client.post(env.url(), json=provider_body(), headers=env.headers)
    assert response.status_code == 502 and response.json() == {"detail": "The LLM gateway failed"}
    assert env.gateway.registry.deployments == {}
    assert env.rows("SELECT id FROM llm_providers WHERE tenant_id = :tenant") == []


async def test_minting_and_undo_failure_records_an_orphan(env: Env) -> None:
    env.gateway.down = {"create_virtual_key", "remove_deployment"}
    response = await env.client.post(env.url(), json=provider_body(), headers=env.headers)
    assert response.status_code == 502
    assert env.rows("SELECT id FROM llm_providers WHERE tenant_id = :tenant") == []
    orphans = env.rows("SELECT kind FROM gateway_orphans WHERE tenant_id = :tenant")
    assert [o.kind for o in orphans] == ["deployment"]


async def test_storage_and_undo_failure_records_orphans(env: Env, sql_engine: AsyncEngine) -> None:
    def concurrent_create(method: str) -> None:  # another request wins the name meanwhile
        if method == "create_virtual_key":
            env.rows(
                "INSERT INTO llm_providers VALUES (gen_random_uuid(), :tenant, 'openai', 'm',"
                " NULL, NULL, 'active', '...xxxx', 'test', '\\x00', 'test', '\\x00', 'd', 't',"
                " now(), now())"
            )

    env.gateway.on_call = concurrent_create
    env.gateway.down = {"revoke_key", "remove_deployment"}
    response = await env.client.post(env.url(), json=provider_body(), headers=env.headers)
    assert response.status_code == 409, response.text
    orphans = env.rows(
        "SELECT kind, secret_sealed IS NOT NULL AS sealed FROM gateway_orphans"
        " WHERE tenant_id = :tenant ORDER BY kind"
    )
    assert [tuple(o) for o in orphans] == [("deployment", False), ("virtual_key", True)]
    env.gateway.on_call, env.gateway.down = None, set()
    async with SqlUnitOfWork(sql_engine) as uow:
        await ReconcileGateway(uow, env.services(sql_engine))()
    assert env.rows("SELECT id FROM gateway_orphans WHERE tenant_id = :tenant") == []
    assert env.gateway.live_keys() == [] and env.gateway.registry.deployments == {}
    # The fake row opens with no key (providers first: they RESTRICT the tenant's delete).
    env.rows("DELETE FROM llm_providers WHERE tenant_id = :tenant")
    env.rows("DELETE FROM tenants WHERE id = :tenant")


async def test_verify_rotate_and_delete(env: Env) -> None:
    created = await add_provider(env.client, env.tenant_id, env.headers, max_budget=3.5)
    one = env.url(f"/{created['id']}")
    verified = await env.client.get(one + "/verify", headers=env.headers)
    assert verified.json() == {"status": "active", "spend": 0.0, "max_budget": 3.5}
    same_key = await env.client.post(one + "/rotate", json={}, headers=env.headers)
    assert same_key.status_code == 200, same_key.text
    assert same_key.json()["key_hint"] == created["key_hint"]
    registry = env.gateway.registry
    assert registry.key_info(created["virtual_key"]).status == "revoked"  # before the response
    assert len(registry.deployments) == 1
    new_api_key = canary("rotated")
    rotated = await env.client.post(
        one + "/rotate", json={"api_key": new_api_key}, headers=env.headers
    )
    body = rotated.json()
    assert body["virtual_key"] not in (created["virtual_key"], same_key.json()["virtual_key"])
    assert body["key_hint"] == "..." + new_api_key[-4:] and new_api_key not in rotated.text
    assert registry.key_info(same_key.json()["virtual_key"]).status == "revoked"
    [deployment] = registry.deployments.values()
    assert deployment.provider_api_key == new_api_key
    assert (await env.client.get(one, headers=env.headers)).json()["key_hint"] == body["key_hint"]
    assert (await env.client.get(one + "/verify", headers=env.headers)).json()["status"] == "active"
    deleted = await env.client.delete(one, headers=env.headers)
    assert (deleted.status_code, deleted.content) == (204, b"")
    assert env.gateway.live_keys() == [] and registry.deployments == {}
    assert (await env.client.get(one, headers=env.headers)).status_code == 404


async def test_delete_while_the_gateway_is_down_then_reconcile(
    env: Env, sql_engine: AsyncEngine
) -> None:
    created = await add_provider(env.client, env.tenant_id, env.headers)
    one = env.url(f"/{created['id']}")
    env.gateway.down = {"revoke_key"}
    rotated = await env.client.post(one + "/rotate", json={}, headers=env.headers)
    assert rotated.status_code == 502  # new key stored, the old one recorded as an orphan
    assert len(env.rows("SELECT id FROM gateway_orphans WHERE tenant_id = :tenant")) == 1
    env.gateway.down = {"revoke_key", "remove_deployment"}
    deleted = await env.client.delete(one, headers=env.headers)
    assert deleted.status_code == 202 and deleted.json()["status"] == "revoking"
    assert (await env.client.get(one, headers=env.headers)).json()["status"] == "revoking"
    env.gateway.down = set()
    async with SqlUnitOfWork(sql_engine) as uow:
        await ReconcileGateway(uow, env.services(sql_engine))()
    assert env.rows("SELECT id FROM llm_providers WHERE tenant_id = :tenant") == []
    assert env.rows("SELECT id FROM gateway_orphans WHERE tenant_id = :tenant") == []
    assert env.gateway.live_keys() == [] and env.gateway.registry.deployments == {}


async def test_tenant_delete_revokes_every_provider_key(env: Env) -> None:
    for name in ("openai", "anthropic", "mistral"):
        await add_provider(env.client, env.tenant_id, env.headers, provider_name=name)
    assert len(env.gateway.live_keys()) == 3
    response = await env.client.delete(f"/api/tenants/{env.tenant_id}", headers=env.operator)
    assert response.status_code == 204
    assert env.gateway.live_keys() == [] and env.gateway.registry.deployments == {}


async def test_another_tenant_gets_404_everywhere(env: Env) -> None:
    created = await add_provider(env.client, env.tenant_id, env.headers)
    other_id, other = await new_tenant(env.client, env.operator)
    env.gateway.log.clear()
    theirs, mine = env.url(f"/{created['id']}"), env.url(f"/{created['id']}", other_id)
    for method, url in [
        ("GET", env.url()), ("POST", env.url()), ("GET", theirs), ("GET", mine),
        ("GET", theirs + "/verify"), ("GET", mine + "/verify"), ("POST", mine + "/rotate"),
        ("POST", theirs + "/rotate"), ("DELETE", theirs), ("DELETE", mine),
    ]:  # fmt: skip
        body = provider_body() if url == env.url() else {}
        response = await env.client.request(
            method, url, json=body if method == "POST" else None, headers=other
        )
        assert response.status_code == 404, (method, url, response.text)
    assert env.gateway.log == [] and len(env.gateway.live_keys()) == 1
