"""Agents over HTTP: shapes, defaults, tenancy, pagination, PATCH semantics, deletion."""

import uuid
from collections.abc import Iterator
from typing import Any

import pytest

from tests.support.http_helpers import (
    AGENT_FIELDS,
    Api,
    assert_detail,
    assert_timestamp,
    assert_uuid,
    assert_validation_error,
    counts,
    open_api,
    snapshot,
)

FULL = {
    "name": "support-bot",
    "system_prompt": "You answer tickets.",
    "model": "gpt-4o",
    "temperature": 1.25,
    "max_tokens": 512,
    "use_byok": False,
    "status": "draft",
}


@pytest.fixture
def api() -> Iterator[Api]:
    with open_api() as api:
        yield api


def assert_agent(body: dict[str, Any]) -> None:
    assert set(body) == AGENT_FIELDS
    assert_uuid(body["id"])
    assert_uuid(body["tenant_id"])
    assert body["provider_id"] is None or uuid.UUID(body["provider_id"])
    assert assert_timestamp(body["created_at"]) <= assert_timestamp(body["updated_at"])


def test_create_with_defaults(api: Api) -> None:
    tenant = api.tenant()
    body = {"name": "minimal", "system_prompt": "Be brief."}
    response = api.client.post("/api/agents", json=body, headers=tenant.headers)
    assert response.status_code == 201
    agent = response.json()
    assert_agent(agent)
    assert agent["tenant_id"] == tenant.id
    assert (agent["name"], agent["system_prompt"]) == ("minimal", "Be brief.")
    assert agent["temperature"] == 0.7
    assert agent["status"] == "active"
    assert agent["use_byok"] is False
    assert agent["max_tokens"] is None and agent["provider_id"] is None
    assert isinstance(agent["model"], str) and agent["model"]


def test_create_with_every_field(api: Api) -> None:
    tenant = api.tenant()
    body = {**FULL, "tenant_id": tenant.id}
    agent = api.client.post("/api/agents", json=body, headers=tenant.headers).json()
    assert_agent(agent)
    assert {k: agent[k] for k in FULL} == FULL
    assert agent["tenant_id"] == tenant.id


@pytest.mark.parametrize("status", ["draft", "active", "suspended", "inactive"])
def test_every_status_is_accepted(api: Api, status: str) -> None:
    agent = api.agent(api.tenant().headers, status=status)
    assert agent["status"] == status


@pytest.mark.parametrize("temperature", [0, 2, 0.0, 1])
def test_temperature_bounds_are_inclusive(api: Api, temperature: float) -> None:
    assert api.agent(api.tenant().headers, temperature=temperature)["temperature"] == temperature


def test_get_returns_the_same_agent(api: Api) -> None:
    tenant = api.tenant()
    agent = api.agent(tenant.headers, **FULL)
    got = api.client.get(f"/api/agents/{agent['id']}", headers=tenant.headers)
    assert got.status_code == 200 and got.json() == agent
    assert api.client.get(f"/api/agents/{agent['id']}", headers=api.op).json() == agent


def test_get_unknown_is_not_found(api: Api) -> None:
    response = api.client.get(f"/api/agents/{uuid.uuid4()}", headers=api.op)
    assert_detail(response, 404, "Agent not found")


def test_operator_must_name_the_tenant(api: Api) -> None:
    api.tenant()
    before = counts(api.store)
    body = {"name": "a", "system_prompt": "p"}
    response = api.client.post("/api/agents", json=body, headers=api.op)
    assert_validation_error(response, "tenant_id")
    assert counts(api.store) == before


def test_operator_creating_for_an_unknown_tenant_is_not_found(api: Api) -> None:
    before = counts(api.store)
    body = {"name": "a", "system_prompt": "p", "tenant_id": str(uuid.uuid4())}
    assert_detail(api.client.post("/api/agents", json=body, headers=api.op), 404)
    assert counts(api.store) == before


def test_operator_creates_for_a_named_tenant(api: Api) -> None:
    tenant = api.tenant()
    agent = api.agent(api.op, tenant_id=tenant.id)
    assert agent["tenant_id"] == tenant.id
    listed = api.client.get("/api/agents", headers=tenant.headers).json()
    assert [a["id"] for a in listed] == [agent["id"]]


def test_duplicate_name_within_a_tenant_is_a_conflict(api: Api) -> None:
    tenant, other = api.tenant(), api.tenant()
    api.agent(tenant.headers, name="same")
    before = counts(api.store)
    body = {"name": "same", "system_prompt": "p"}
    assert_detail(api.client.post("/api/agents", json=body, headers=tenant.headers), 409)
    assert counts(api.store) == before
    assert api.agent(other.headers, name="same")["name"] == "same"


def test_list_is_scoped_and_filterable(api: Api) -> None:
    a, b = api.tenant(), api.tenant()
    mine = {api.agent(a.headers)["id"] for _ in range(3)}
    theirs = {api.agent(b.headers)["id"] for _ in range(2)}
    listed = api.client.get("/api/agents", headers=a.headers).json()
    assert all(set(x) == AGENT_FIELDS for x in listed)
    assert {x["id"] for x in listed} == mine
    everything = api.client.get("/api/agents", headers=api.op).json()
    assert {x["id"] for x in everything} == mine | theirs
    filtered = api.client.get(f"/api/agents?tenant_id={b.id}", headers=api.op).json()
    assert {x["id"] for x in filtered} == theirs


def test_list_pagination(api: Api) -> None:
    tenant = api.tenant()
    ids = [api.agent(tenant.headers)["id"] for _ in range(53)]
    default = api.client.get("/api/agents", headers=tenant.headers).json()
    assert len(default) == 50
    page = api.client.get("/api/agents?limit=10&offset=50", headers=tenant.headers).json()
    assert len(page) == 3
    assert {x["id"] for x in default + page} == set(ids)
    response = api.client.get("/api/agents?limit=201", headers=tenant.headers)
    assert_validation_error(response, "limit", "query")
    assert len(api.client.get("/api/agents?limit=200", headers=tenant.headers).json()) == 53


def test_patch_changes_only_sent_fields(api: Api) -> None:
    tenant = api.tenant()
    agent = api.agent(tenant.headers, **FULL)
    url = f"/api/agents/{agent['id']}"
    response = api.client.patch(url, json={"temperature": 0.1}, headers=tenant.headers)
    assert response.status_code == 200
    patched = response.json()
    assert_agent(patched)
    unchanged = AGENT_FIELDS - {"temperature", "updated_at"}
    assert {k: patched[k] for k in unchanged} == {k: agent[k] for k in unchanged}
    assert patched["temperature"] == 0.1
    assert assert_timestamp(patched["updated_at"]) >= assert_timestamp(agent["updated_at"])
    assert api.client.get(url, headers=tenant.headers).json() == patched


def test_patch_several_fields(api: Api) -> None:
    tenant = api.tenant()
    agent = api.agent(tenant.headers)
    change = {"name": "renamed", "system_prompt": "new", "status": "suspended", "model": "m2"}
    patched = api.client.patch(f"/api/agents/{agent['id']}", json=change, headers=api.op).json()
    assert {k: patched[k] for k in change} == change


def test_patch_null_clears_max_tokens(api: Api) -> None:
    tenant = api.tenant()
    agent = api.agent(tenant.headers, max_tokens=100)
    url = f"/api/agents/{agent['id']}"
    patched = api.client.patch(url, json={"max_tokens": None}, headers=tenant.headers).json()
    assert patched["max_tokens"] is None
    assert patched["temperature"] == agent["temperature"]


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"name": None}, "name"),
        ({"temperature": None}, "temperature"),
        ({"status": None}, "status"),
        ({"temperature": 3}, "temperature"),
        ({"name": ""}, "name"),
        ({"name": "   "}, "name"),
        ({"tenant_id": str(uuid.uuid4())}, "tenant_id"),
        ({"id": str(uuid.uuid4())}, "id"),
        ({"provider_id": str(uuid.uuid4())}, "provider_id"),
    ],
)
def test_invalid_patch_changes_nothing(api: Api, change: dict[str, Any], field: str) -> None:
    tenant = api.tenant()
    agent = api.agent(tenant.headers)
    before = snapshot(api.store)
    url = f"/api/agents/{agent['id']}"
    assert_validation_error(api.client.patch(url, json=change, headers=tenant.headers), field)
    assert snapshot(api.store) == before


def test_rename_to_a_sibling_name_is_a_conflict(api: Api) -> None:
    tenant = api.tenant()
    api.agent(tenant.headers, name="first")
    second = api.agent(tenant.headers, name="second")
    url = f"/api/agents/{second['id']}"
    assert_detail(api.client.patch(url, json={"name": "first"}, headers=tenant.headers), 409)
    assert api.client.get(url, headers=tenant.headers).json()["name"] == "second"


def test_patch_unknown_is_not_found(api: Api) -> None:
    response = api.client.patch(f"/api/agents/{uuid.uuid4()}", json={}, headers=api.op)
    assert_detail(response, 404, "Agent not found")


def test_delete_then_gone(api: Api) -> None:
    tenant = api.tenant()
    agent = api.agent(tenant.headers)
    url = f"/api/agents/{agent['id']}"
    response = api.client.delete(url, headers=tenant.headers)
    assert response.status_code == 204 and response.content == b""
    assert_detail(api.client.get(url, headers=tenant.headers), 404, "Agent not found")
    assert_detail(api.client.delete(url, headers=tenant.headers), 404, "Agent not found")
    assert_detail(api.client.patch(url, json={}, headers=api.op), 404, "Agent not found")
    assert api.client.get("/api/agents", headers=tenant.headers).json() == []
