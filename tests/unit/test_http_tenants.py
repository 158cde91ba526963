"""Tenants over HTTP: shapes, pagination, conflicts, PATCH semantics, deletion."""

import uuid
from collections.abc import Iterator

import pytest

from tests.support.http_helpers import (
    TENANT_FIELDS,
    Api,
    assert_detail,
    assert_timestamp,
    assert_uuid,
    assert_validation_error,
    counts,
    open_api,
    snapshot,
)


@pytest.fixture
def api() -> Iterator[Api]:
    with open_api() as api:
        yield api


def assert_tenant(body: dict[str, object]) -> None:
    assert set(body) == TENANT_FIELDS
    assert_uuid(body["id"])
    assert body["ticket_agent_id"] is None or uuid.UUID(str(body["ticket_agent_id"]))
    assert assert_timestamp(body["created_at"]) <= assert_timestamp(body["updated_at"])


def test_create_returns_the_tenant_and_its_first_key_once(api: Api) -> None:
    body = {"name": "Acme", "admin_email": "ops@acme.example"}
    response = api.client.post("/api/tenants", json=body, headers=api.op)
    assert response.status_code == 201
    created = response.json()
    assert set(created) == {*TENANT_FIELDS, "api_key"}
    assert_tenant({k: v for k, v in created.items() if k != "api_key"})
    assert (created["name"], created["admin_email"]) == ("Acme", "ops@acme.example")
    assert created["ticket_agent_id"] is None
    assert created["api_key"].startswith("ak_tn_") and len(created["api_key"]) >= 38
    key_headers = {"Authorization": f"Bearer {created['api_key']}"}
    got = api.client.get(f"/api/tenants/{created['id']}", headers=key_headers)
    assert got.status_code == 200
    assert got.json() == {k: v for k, v in created.items() if k != "api_key"}
    listed = api.client.get("/api/tenants", headers=api.op).json()
    assert all(set(t) == TENANT_FIELDS for t in listed)
    assert created["api_key"] not in got.text + str(listed)


def test_the_key_is_stored_only_as_a_hash(api: Api) -> None:
    tenant = api.tenant()
    stored = [k for k in api.store.api_keys.values() if str(k.tenant_id) == tenant.id]
    assert len(stored) == 1
    assert tenant.key.encode() not in stored[0].key_hash
    assert stored[0].prefix == tenant.key[: len(stored[0].prefix)]


def test_duplicate_name_is_a_conflict(api: Api) -> None:
    api.tenant("dup")
    before = counts(api.store)
    body = {"name": "dup", "admin_email": "b@example.com"}
    assert_detail(api.client.post("/api/tenants", json=body, headers=api.op), 409)
    assert counts(api.store) == before


def test_get_unknown_is_not_found(api: Api) -> None:
    response = api.client.get(f"/api/tenants/{uuid.uuid4()}", headers=api.op)
    assert_detail(response, 404, "Tenant not found")


def test_list_pagination(api: Api) -> None:
    ids = {api.tenant().id for _ in range(55)}
    default = api.client.get("/api/tenants", headers=api.op).json()
    assert len(default) == 50
    everything = api.client.get("/api/tenants?limit=200", headers=api.op).json()
    assert {t["id"] for t in everything} == ids and len(everything) == 55
    first = api.client.get("/api/tenants?limit=20", headers=api.op).json()
    rest = api.client.get("/api/tenants?limit=200&offset=20", headers=api.op).json()
    assert len(first) == 20 and len(rest) == 35
    assert [t["id"] for t in first + rest] == [t["id"] for t in everything]
    beyond = api.client.get("/api/tenants?offset=55", headers=api.op)
    assert beyond.status_code == 200 and beyond.json() == []


@pytest.mark.parametrize("query", ["limit=201", "limit=0", "limit=-1", "limit=x", "limit=1.5"])
def test_bad_limit_is_rejected(api: Api, query: str) -> None:
    response = api.client.get(f"/api/tenants?{query}", headers=api.op)
    assert_validation_error(response, "limit", "query")


def test_bad_offset_is_rejected(api: Api) -> None:
    response = api.client.get("/api/tenants?offset=-1", headers=api.op)
    assert_validation_error(response, "offset", "query")


def test_tenant_key_sees_only_itself_in_the_list(api: Api) -> None:
    mine = api.tenant()
    api.tenant()
    assert [t["id"] for t in api.client.get("/api/tenants", headers=mine.headers).json()] == [
        mine.id
    ]
    assert api.client.get("/api/tenants?offset=1", headers=mine.headers).json() == []


def test_patch_changes_only_sent_fields(api: Api) -> None:
    tenant = api.tenant("before", "a@example.com")
    url = f"/api/tenants/{tenant.id}"
    response = api.client.patch(url, json={"admin_email": "new@example.com"}, headers=api.op)
    assert response.status_code == 200
    patched = response.json()
    assert_tenant(patched)
    assert patched["admin_email"] == "new@example.com"
    assert patched["name"] == "before"
    assert patched["created_at"] == tenant.body["created_at"]
    assert assert_timestamp(patched["updated_at"]) >= assert_timestamp(tenant.body["updated_at"])
    renamed = api.client.patch(url, json={"name": "after"}, headers=api.op).json()
    assert (renamed["name"], renamed["admin_email"]) == ("after", "new@example.com")
    assert api.client.get(url, headers=api.op).json() == renamed


def test_empty_patch_changes_nothing(api: Api) -> None:
    tenant = api.tenant()
    response = api.client.patch(f"/api/tenants/{tenant.id}", json={}, headers=tenant.headers)
    assert response.status_code == 200
    body = response.json()
    assert {k: body[k] for k in ("id", "name", "admin_email", "ticket_agent_id")} == {
        k: tenant.body[k] for k in ("id", "name", "admin_email", "ticket_agent_id")
    }


def test_tenant_key_may_patch_its_email_but_not_its_name(api: Api) -> None:
    tenant = api.tenant("fixed")
    url = f"/api/tenants/{tenant.id}"
    before = snapshot(api.store)
    assert_detail(api.client.patch(url, json={"name": "other"}, headers=tenant.headers), 403)
    both = {"name": "other", "admin_email": "z@example.com"}
    assert_detail(api.client.patch(url, json=both, headers=tenant.headers), 403)
    assert snapshot(api.store) == before
    ok = api.client.patch(url, json={"admin_email": "z@example.com"}, headers=tenant.headers)
    assert ok.status_code == 200 and ok.json()["name"] == "fixed"


def test_rename_to_an_existing_name_is_a_conflict(api: Api) -> None:
    api.tenant("taken")
    other = api.tenant("free")
    response = api.client.patch(f"/api/tenants/{other.id}", json={"name": "taken"}, headers=api.op)
    assert_detail(response, 409)
    assert api.client.get(f"/api/tenants/{other.id}", headers=api.op).json()["name"] == "free"


def test_ticket_agent_set_and_clear(api: Api) -> None:
    tenant = api.tenant()
    agent = api.agent(tenant.headers)
    url = f"/api/tenants/{tenant.id}"
    chosen = api.client.patch(url, json={"ticket_agent_id": agent["id"]}, headers=tenant.headers)
    assert chosen.status_code == 200 and chosen.json()["ticket_agent_id"] == agent["id"]
    other = api.client.patch(url, json={"admin_email": "q@example.com"}, headers=tenant.headers)
    assert other.json()["ticket_agent_id"] == agent["id"]
    cleared = api.client.patch(url, json={"ticket_agent_id": None}, headers=tenant.headers)
    assert cleared.status_code == 200 and cleared.json()["ticket_agent_id"] is None


@pytest.mark.parametrize("whose", ["other-tenant", "unknown"])
def test_ticket_agent_must_be_one_of_the_tenants_agents(api: Api, whose: str) -> None:
    tenant, other = api.tenant(), api.tenant()
    agent_id = api.agent(other.headers)["id"] if whose == "other-tenant" else str(uuid.uuid4())
    before = snapshot(api.store)
    for body in (
        {"ticket_agent_id": agent_id},
        {"admin_email": "new@x.io", "ticket_agent_id": agent_id},
    ):
        for headers in (tenant.headers, api.op):
            response = api.client.patch(f"/api/tenants/{tenant.id}", json=body, headers=headers)
            assert_validation_error(response, "ticket_agent_id")
    assert snapshot(api.store) == before


def test_deleting_the_ticket_agent_clears_it(api: Api) -> None:
    tenant = api.tenant()
    agent = api.agent(tenant.headers)
    url = f"/api/tenants/{tenant.id}"
    api.client.patch(url, json={"ticket_agent_id": agent["id"]}, headers=tenant.headers)
    assert (
        api.client.delete(f"/api/agents/{agent['id']}", headers=tenant.headers).status_code == 204
    )
    assert api.client.get(url, headers=tenant.headers).json()["ticket_agent_id"] is None


def test_patch_unknown_tenant_is_not_found(api: Api) -> None:
    response = api.client.patch(f"/api/tenants/{uuid.uuid4()}", json={}, headers=api.op)
    assert_detail(response, 404, "Tenant not found")


def test_delete_then_gone_with_everything_it_owns(api: Api) -> None:
    tenant, survivor = api.tenant(), api.tenant()
    agent = api.agent(tenant.headers)
    kept = api.agent(survivor.headers)
    url = f"/api/tenants/{tenant.id}"
    response = api.client.delete(url, headers=api.op)
    assert response.status_code == 204 and response.content == b""
    assert_detail(api.client.get(url, headers=api.op), 404, "Tenant not found")
    assert_detail(api.client.delete(url, headers=api.op), 404, "Tenant not found")
    assert_detail(api.client.get(f"/api/agents/{agent['id']}", headers=api.op), 404)
    assert all(str(k.tenant_id) != tenant.id for k in api.store.api_keys.values())
    assert api.client.get(f"/api/agents/{kept['id']}", headers=survivor.headers).status_code == 200
