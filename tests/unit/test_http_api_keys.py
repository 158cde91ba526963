"""Tenant API keys over HTTP: issue (shown once), list (no secrets), revoke."""

import uuid
from collections.abc import Iterator

import pytest

from tests.support.http_helpers import (
    KEY_FIELDS,
    Api,
    assert_detail,
    assert_timestamp,
    assert_uuid,
    assert_validation_error,
    bearer,
    counts,
    open_api,
)


@pytest.fixture
def api() -> Iterator[Api]:
    with open_api() as api:
        yield api


def _url(tenant_id: str, key_id: str | None = None) -> str:
    base = f"/api/tenants/{tenant_id}/api-keys"
    return base if key_id is None else f"{base}/{key_id}"


@pytest.mark.parametrize("issuer", ["tenant", "operator"])
def test_issue_returns_the_key_once(api: Api, issuer: str) -> None:
    tenant = api.tenant()
    headers = tenant.headers if issuer == "tenant" else api.op
    response = api.client.post(_url(tenant.id), json={"name": "ci"}, headers=headers)
    assert response.status_code == 201
    issued = response.json()
    assert set(issued) == {*KEY_FIELDS, "key"}
    assert_uuid(issued["id"])
    assert_timestamp(issued["created_at"])
    assert issued["name"] == "ci"
    assert issued["key"].startswith("ak_tn_")
    assert issued["key"].startswith(issued["prefix"]) and issued["prefix"] != issued["key"]
    assert api.client.get(f"/api/tenants/{tenant.id}", headers=bearer(issued["key"])).is_success
    listed = api.client.get(_url(tenant.id), headers=headers)
    assert issued["key"] not in listed.text


def test_issued_keys_are_distinct(api: Api) -> None:
    tenant = api.tenant()
    keys = {api.issue_key(tenant.id, tenant.headers, f"k{i}")["key"] for i in range(5)}
    assert len(keys) == 5 and tenant.key not in keys


def test_list_shows_no_secrets(api: Api) -> None:
    tenant = api.tenant()
    issued = api.issue_key(tenant.id, tenant.headers, "second")
    response = api.client.get(_url(tenant.id), headers=tenant.headers)
    assert response.status_code == 200
    keys = response.json()
    assert len(keys) == 2
    for key in keys:
        assert set(key) == KEY_FIELDS
        assert_uuid(key["id"])
        assert_timestamp(key["created_at"])
    assert {k["name"] for k in keys} == {"default", "second"}
    assert issued["id"] in {k["id"] for k in keys}
    assert tenant.key not in response.text and issued["key"] not in response.text


def test_list_shows_only_that_tenants_keys(api: Api) -> None:
    mine, theirs = api.tenant(), api.tenant()
    api.issue_key(theirs.id, theirs.headers)
    mine_ids = {k["id"] for k in api.client.get(_url(mine.id), headers=api.op).json()}
    theirs_ids = {k["id"] for k in api.client.get(_url(theirs.id), headers=api.op).json()}
    assert len(mine_ids) == 1 and len(theirs_ids) == 2 and not mine_ids & theirs_ids


def test_revoke_then_gone(api: Api) -> None:
    tenant = api.tenant()
    issued = api.issue_key(tenant.id, tenant.headers)
    response = api.client.delete(_url(tenant.id, issued["id"]), headers=tenant.headers)
    assert response.status_code == 204 and response.content == b""
    ids = {k["id"] for k in api.client.get(_url(tenant.id), headers=tenant.headers).json()}
    assert issued["id"] not in ids
    again = api.client.delete(_url(tenant.id, issued["id"]), headers=tenant.headers)
    assert_detail(again, 404, "API key not found")
    assert_detail(api.client.get("/api/agents", headers=bearer(issued["key"])), 401)


def test_revoke_unknown_key_is_not_found(api: Api) -> None:
    tenant = api.tenant()
    before = counts(api.store)
    response = api.client.delete(_url(tenant.id, str(uuid.uuid4())), headers=api.op)
    assert_detail(response, 404)
    assert counts(api.store) == before


def test_keys_of_an_unknown_tenant_are_not_found(api: Api) -> None:
    unknown = str(uuid.uuid4())
    before = counts(api.store)
    assert_detail(api.client.get(_url(unknown), headers=api.op), 404, "Tenant not found")
    response = api.client.post(_url(unknown), json={"name": "k"}, headers=api.op)
    assert_detail(response, 404, "Tenant not found")
    assert counts(api.store) == before


@pytest.mark.parametrize(
    ("body", "field"),
    [({}, "name"), ({"name": ""}, "name"), ({"name": "x" * 201}, "name"), ({"name": 1}, "name")],
)
def test_issue_validation(api: Api, body: dict[str, object], field: str) -> None:
    tenant = api.tenant()
    before = counts(api.store)
    response = api.client.post(_url(tenant.id), json=body, headers=tenant.headers)
    assert_validation_error(response, field, "body")
    assert counts(api.store) == before


def test_non_uuid_key_id_is_a_validation_error(api: Api) -> None:
    tenant = api.tenant()
    response = api.client.delete(_url(tenant.id, "nope"), headers=api.op)
    errors = assert_validation_error(response, "key_id")
    assert any(e["loc"] == ["path", "key_id"] for e in errors)
