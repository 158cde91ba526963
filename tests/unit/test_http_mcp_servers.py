"""MCP servers over HTTP (in-memory): shapes, masking, validation by transport, the
operator's policy (allowlist, private URLs), tenancy, PATCH and DELETE semantics."""

import uuid
from collections.abc import Iterator
from typing import Any

import pytest

from tests.support.http_helpers import Api, assert_detail, assert_validation_error, open_api
from tests.support.mcp.world import PYTHON, stdio_server_body

FIELDS = {
    "id",
    "tenant_id",
    "name",
    "transport_type",
    "command",
    "args",
    "env_vars",
    "url",
    "status",
    "tools",
    "last_error",
    "last_checked_at",
    "created_at",
    "updated_at",
}
PUBLIC_URL = "https://93.184.215.14/mcp"  # a global address literal: no DNS, no traffic


@pytest.fixture
def api() -> Iterator[Api]:
    with open_api() as api:
        yield api


def _create(api: Api, headers: dict[str, str], body: dict[str, Any]) -> dict[str, Any]:
    response = api.client.post("/api/mcp-servers", json=body, headers=headers)
    assert response.status_code == 201, response.text
    created: dict[str, Any] = response.json()
    return created


def test_create_stdio_masks_env_everywhere(api: Api) -> None:
    tenant = api.tenant()
    body = stdio_server_body(TOKEN="s3cr3t-value")
    created = _create(api, tenant.headers, body)
    assert set(created) == FIELDS
    assert created["env_vars"] == {"PYTHONPATH": "***", "TOKEN": "***"}
    assert (created["status"], created["tools"], created["last_checked_at"]) == (
        "pending",
        [],
        None,
    )
    assert created["command"] == PYTHON and created["args"] == body["args"]
    assert created["tenant_id"] == tenant.id
    one = api.client.get(f"/api/mcp-servers/{created['id']}", headers=tenant.headers).json()
    listed = api.client.get("/api/mcp-servers", headers=tenant.headers).json()
    for shown in (one, *listed):
        assert shown["env_vars"] == {"PYTHONPATH": "***", "TOKEN": "***"}
    everything = api.client.get("/api/mcp-servers", headers=tenant.headers).text
    assert "s3cr3t-value" not in everything


def test_env_values_are_sealed_in_the_store(api: Api) -> None:
    tenant = api.tenant()
    created = _create(api, tenant.headers, stdio_server_body(TOKEN="s3cr3t-value"))
    row = api.store.mcp_servers[uuid.UUID(created["id"])]
    assert set(row.env) == {"PYTHONPATH", "TOKEN"}
    assert b"s3cr3t-value" not in row.env["TOKEN"].ciphertext


def test_create_http_transports(api: Api) -> None:
    tenant = api.tenant()
    for transport in ("streamable_http", "http_sse"):
        body = {"name": transport, "transport_type": transport, "url": PUBLIC_URL}
        created = _create(api, tenant.headers, body)
        assert (created["url"], created["command"], created["args"]) == (PUBLIC_URL, None, [])
        assert created["env_vars"] == {}


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"transport_type": "websocket", "url": PUBLIC_URL}, "transport_type"),
        ({"transport_type": "stdio"}, "command"),
        ({"transport_type": "stdio", "command": "python3"}, "command"),  # relative
        ({"transport_type": "stdio", "command": "/bin/sh"}, "command"),  # not allowlisted
        ({"transport_type": "stdio", "command": PYTHON, "url": PUBLIC_URL}, "url"),
        ({"transport_type": "stdio", "command": PYTHON, "args": ["-m", 3]}, "args"),
        ({"transport_type": "stdio", "command": PYTHON, "args": "-m x"}, "args"),
        ({"transport_type": "stdio", "command": PYTHON, "env_vars": {"A": 1}}, "env_vars"),
        ({"transport_type": "stdio", "command": PYTHON, "env_vars": ["A"]}, "env_vars"),
        ({"transport_type": "streamable_http"}, "url"),
        ({"transport_type": "streamable_http", "url": "ftp://x.example/"}, "url"),
        ({"transport_type": "streamable_http", "url": "http://127.0.0.1:8000/mcp"}, "url"),
        ({"transport_type": "http_sse", "url": "http://10.1.2.3/sse"}, "url"),
        ({"transport_type": "http_sse", "url": "http://169.254.169.254/latest"}, "url"),
        ({"transport_type": "http_sse", "url": "http://[::1]:9/sse"}, "url"),
        ({"transport_type": "http_sse", "url": "http://[::ffff:192.168.0.1]/"}, "url"),
        ({"transport_type": "streamable_http", "url": PUBLIC_URL, "command": PYTHON}, "command"),
        (
            {"transport_type": "streamable_http", "url": PUBLIC_URL, "env_vars": {"A": "b"}},
            "env_vars",
        ),
    ],
)
def test_bad_input_is_422(api: Api, body: dict[str, Any], field: str) -> None:
    tenant = api.tenant()
    response = api.client.post(
        "/api/mcp-servers", json={"name": "x", **body}, headers=tenant.headers
    )
    assert_validation_error(response, field)
    assert api.store.mcp_servers == {}


def test_localhost_by_name_is_refused(api: Api) -> None:
    tenant = api.tenant()
    body = {"name": "x", "transport_type": "streamable_http", "url": "http://localhost:9/mcp"}
    response = api.client.post("/api/mcp-servers", json=body, headers=tenant.headers)
    assert_validation_error(response, "url")


def test_duplicate_name_is_409_and_tenancy_is_404(api: Api) -> None:
    a, b = api.tenant(), api.tenant()
    created = _create(api, a.headers, stdio_server_body())
    again = api.client.post("/api/mcp-servers", json=stdio_server_body(), headers=a.headers)
    assert again.status_code == 409
    _create(api, b.headers, stdio_server_body())  # same name, other tenant: fine
    url = f"/api/mcp-servers/{created['id']}"
    for method in ("GET", "PATCH", "DELETE"):
        body = {"name": "y"} if method == "PATCH" else None
        assert_detail(api.client.request(method, url, headers=b.headers, json=body), 404)
    assert_detail(api.client.post(url + "/check", headers=b.headers), 404)
    theirs = {s["id"] for s in api.client.get("/api/mcp-servers", headers=b.headers).json()}
    assert created["id"] not in theirs and len(theirs) == 1
    everything = api.client.get("/api/mcp-servers", headers=api.op).json()
    assert created["id"] in {s["id"] for s in everything}


def test_operator_creates_for_a_named_tenant(api: Api) -> None:
    tenant = api.tenant()
    missing = api.client.post("/api/mcp-servers", json=stdio_server_body(), headers=api.op)
    assert_validation_error(missing, "tenant_id")
    created = _create(api, api.op, {**stdio_server_body(), "tenant_id": tenant.id})
    assert created["tenant_id"] == tenant.id


def test_patch_changes_sent_fields_and_resets_status(api: Api) -> None:
    tenant = api.tenant()
    created = _create(api, tenant.headers, stdio_server_body(TOKEN="one"))
    url = f"/api/mcp-servers/{created['id']}"
    renamed = api.client.patch(url, json={"name": "renamed"}, headers=tenant.headers).json()
    assert (renamed["name"], renamed["env_vars"]) == (
        "renamed",
        {"PYTHONPATH": "***", "TOKEN": "***"},
    )
    switched = api.client.patch(
        url,
        json={
            "transport_type": "streamable_http",
            "url": PUBLIC_URL,
            "command": None,
            "args": None,
            "env_vars": None,
        },
        headers=tenant.headers,
    )
    assert switched.status_code == 200, switched.text
    assert (switched.json()["url"], switched.json()["env_vars"]) == (PUBLIC_URL, {})
    refused = api.client.patch(url, json={"url": "http://192.168.1.1/mcp"}, headers=tenant.headers)
    assert_validation_error(refused, "url")
    bad = api.client.patch(url, json={"transport_type": "stdio"}, headers=tenant.headers)
    assert_validation_error(bad, "command")
    unchanged = api.client.get(url, headers=tenant.headers).json()
    assert unchanged["url"] == PUBLIC_URL


def test_agents_take_only_their_tenants_servers(api: Api) -> None:
    a, b = api.tenant(), api.tenant()
    mine = _create(api, a.headers, stdio_server_body())["id"]
    theirs = _create(api, b.headers, stdio_server_body())["id"]
    agent = api.agent(a.headers, mcp_server_ids=[mine])
    assert agent["mcp_server_ids"] == [mine]
    body = {"name": "x", "system_prompt": "p", "mcp_server_ids": [theirs]}
    assert_validation_error(
        api.client.post("/api/agents", json=body, headers=a.headers), "mcp_server_ids"
    )
    unknown = {"mcp_server_ids": [str(uuid.uuid4())]}
    url = f"/api/agents/{agent['id']}"
    assert_validation_error(
        api.client.patch(url, json=unknown, headers=a.headers), "mcp_server_ids"
    )
    twice = {"mcp_server_ids": [mine, mine]}
    assert_validation_error(api.client.patch(url, json=twice, headers=a.headers), "mcp_server_ids")
    not_ids = {"mcp_server_ids": ["nope"]}
    assert_validation_error(
        api.client.patch(url, json=not_ids, headers=a.headers), "mcp_server_ids"
    )
    assert api.client.delete(f"/api/mcp-servers/{mine}", headers=a.headers).status_code == 204
    assert api.client.get(url, headers=a.headers).json()["mcp_server_ids"] == []
