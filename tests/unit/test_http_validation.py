"""Every validation failure is a 422 in one shape, with loc[-1] naming the offending field."""

import json
import uuid
from collections.abc import Iterator
from typing import Any

import pytest

from tests.support.http_helpers import (
    Api,
    TenantHandle,
    assert_validation_error,
    open_api,
    snapshot,
)

AGENT = {"name": "a", "system_prompt": "p"}
TENANT = {"name": "t", "admin_email": "a@example.com"}


@pytest.fixture
def api() -> Iterator[Api]:
    with open_api() as api:
        yield api


@pytest.fixture
def tenant(api: Api) -> TenantHandle:
    return api.tenant()


@pytest.mark.parametrize(
    ("change", "field", "kind"),
    [
        ({"temperature": "hot"}, "temperature", "type_error"),
        ({"temperature": 2.5}, "temperature", None),
        ({"temperature": -0.1}, "temperature", None),
        ({"temperature": True}, "temperature", "type_error"),
        ({"max_tokens": 0}, "max_tokens", None),
        ({"max_tokens": -5}, "max_tokens", None),
        ({"max_tokens": "many"}, "max_tokens", "type_error"),
        ({"max_tokens": 1.5}, "max_tokens", None),
        ({"status": "bogus"}, "status", None),
        ({"status": "ACTIVE"}, "status", None),
        ({"use_byok": "yes"}, "use_byok", "type_error"),
        ({"model": ""}, "model", None),
        ({"model": 7}, "model", "type_error"),
        ({"tenant_id": "not-a-uuid"}, "tenant_id", None),
        ({"provider_id": 12}, "provider_id", None),
        ({"name": ""}, "name", None),
        ({"name": "x" * 201}, "name", None),
        ({"name": "   "}, "name", None),
        ({"name": ["a"]}, "name", "type_error"),
        ({"system_prompt": None}, "system_prompt", "type_error"),
        ({"system_prompt": "nul\x00"}, "system_prompt", None),
        ({"colour": "blue"}, "colour", None),
    ],
)
def test_create_agent_field_errors(
    api: Api, tenant: TenantHandle, change: dict[str, Any], field: str, kind: str | None
) -> None:
    before = snapshot(api.store)
    response = api.client.post("/api/agents", json={**AGENT, **change}, headers=tenant.headers)
    errors = assert_validation_error(response, field, "body")
    if kind is not None:
        assert any(e["type"] == kind for e in errors), errors
    assert snapshot(api.store) == before


def test_the_contract_example(api: Api, tenant: TenantHandle) -> None:
    body = {**AGENT, "temperature": "hot"}
    response = api.client.post("/api/agents", json=body, headers=tenant.headers)
    assert response.json() == {
        "detail": [
            {
                "loc": ["body", "temperature"],
                "msg": "Expected `float`, got `str`",
                "type": "type_error",
            }
        ]
    }


def test_name_of_200_chars_is_fine_201_is_not(api: Api, tenant: TenantHandle) -> None:
    ok = api.client.post("/api/agents", json={**AGENT, "name": "n" * 200}, headers=tenant.headers)
    assert ok.status_code == 201
    too_long = {**TENANT, "name": "n" * 201}
    assert_validation_error(api.client.post("/api/tenants", json=too_long, headers=api.op), "name")


@pytest.mark.parametrize("missing", ["name", "system_prompt"])
def test_missing_required_agent_field(api: Api, tenant: TenantHandle, missing: str) -> None:
    body = {k: v for k, v in AGENT.items() if k != missing}
    errors = assert_validation_error(
        api.client.post("/api/agents", json=body, headers=tenant.headers), missing, "body"
    )
    assert any(e["type"] == "missing" for e in errors)


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"admin_email": "a@example.com"}, "name"),
        ({"name": "t"}, "admin_email"),
        ({**TENANT, "admin_email": "not-an-email"}, "admin_email"),
        ({**TENANT, "admin_email": "a b@example.com"}, "admin_email"),
        ({**TENANT, "admin_email": 5}, "admin_email"),
        ({**TENANT, "api_key": "ak_tn_mine"}, "api_key"),
        ({**TENANT, "id": str(uuid.uuid4())}, "id"),
    ],
)
def test_create_tenant_field_errors(api: Api, body: dict[str, Any], field: str) -> None:
    before = snapshot(api.store)
    response = api.client.post("/api/tenants", json=body, headers=api.op)
    assert_validation_error(response, field, "body")
    assert snapshot(api.store) == before


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"name": None}, "name"),
        ({"admin_email": None}, "admin_email"),
        ({"admin_email": "nope"}, "admin_email"),
        ({"ticket_agent_id": "nope"}, "ticket_agent_id"),
        ({"created_at": "2020-01-01T00:00:00Z"}, "created_at"),
    ],
)
def test_patch_tenant_field_errors(
    api: Api, tenant: TenantHandle, body: dict[str, Any], field: str
) -> None:
    before = snapshot(api.store)
    response = api.client.patch(f"/api/tenants/{tenant.id}", json=body, headers=api.op)
    assert_validation_error(response, field, "body")
    assert snapshot(api.store) == before


MALFORMED = [b"{", b"", b"[]", b"null", b"42", b'"text"', b"\xff\xfe\x00", b"{'a': 1}", b"{}}"]


def _routes(api: Api, tenant: TenantHandle, agent_id: str) -> list[tuple[str, str]]:
    return [
        ("POST", "/api/tenants"),
        ("PATCH", f"/api/tenants/{tenant.id}"),
        ("POST", f"/api/tenants/{tenant.id}/api-keys"),
        ("POST", "/api/agents"),
        ("PATCH", f"/api/agents/{agent_id}"),
    ]


@pytest.mark.parametrize("content", MALFORMED)
def test_malformed_json_is_422(api: Api, tenant: TenantHandle, content: bytes) -> None:
    agent_id = api.agent(tenant.headers)["id"]
    before = snapshot(api.store)
    headers = {**api.op, "Content-Type": "application/json"}
    for method, url in _routes(api, tenant, agent_id):
        response = api.client.request(method, url, content=content, headers=headers)
        errors = assert_validation_error(response, None)
        assert errors[0]["loc"][0] == "body", (url, errors)
    assert snapshot(api.store) == before


@pytest.mark.parametrize("raw", [b"\xe9", b"\xff", b"\xc3", b"\xed\xa0\x80"])
def test_non_utf8_inside_a_string_is_422(api: Api, raw: bytes) -> None:
    content = b'{"name": "' + raw + b'", "admin_email": "a@example.com"}'
    response = api.client.post("/api/tenants", content=content, headers=api.op)
    assert_validation_error(response, None)


@pytest.mark.parametrize(
    ("url", "loc"),
    [
        ("/api/agents/not-a-uuid", ["path", "agent_id"]),
        ("/api/agents/12345", ["path", "agent_id"]),
        ("/api/tenants/zzz", ["path", "tenant_id"]),
        ("/api/tenants/zzz/api-keys", ["path", "tenant_id"]),
        ("/api/agents?tenant_id=nope", ["query", "tenant_id"]),
        ("/api/agents?limit=ten", ["query", "limit"]),
        ("/api/agents?limit=", ["query", "limit"]),
        ("/api/tenants?limit=2.5", ["query", "limit"]),
        ("/api/tenants?offset=x", ["query", "offset"]),
        ("/api/tenants?limit=1000", ["query", "limit"]),
    ],
)
def test_path_and_query_errors(api: Api, url: str, loc: list[str]) -> None:
    errors = assert_validation_error(api.client.get(url, headers=api.op), loc[-1], loc[0])
    assert any(e["loc"] == loc for e in errors), errors


@pytest.mark.parametrize("method", ["PATCH", "DELETE"])
def test_non_uuid_agent_id_on_writes(api: Api, method: str) -> None:
    body: dict[str, object] | None = {} if method == "PATCH" else None
    response = api.client.request(method, "/api/agents/not-a-uuid", json=body, headers=api.op)
    errors = assert_validation_error(response, "agent_id", "path")
    assert errors[0]["loc"] == ["path", "agent_id"]


def test_errors_never_echo_secrets_or_internals(api: Api, tenant: TenantHandle) -> None:
    body = json.dumps({**AGENT, "temperature": "hot"}).encode()
    response = api.client.post("/api/agents", content=body, headers=tenant.headers)
    assert response.status_code == 422
    assert tenant.key not in response.text
    assert "Traceback" not in response.text and "msgspec" not in response.text
