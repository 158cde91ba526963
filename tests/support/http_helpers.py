"""Small helpers for the HTTP unit tests: a client over in-memory adapters and shape checks."""

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import httpx
from litestar.testing import TestClient

from adapters.in_memory.store import InMemoryStore
from application.use_cases.mcp_services import McpServices
from tests.support.http_app import InMemoryApp, in_memory_app

TENANT_FIELDS = {"id", "name", "admin_email", "ticket_agent_id", "created_at", "updated_at"}
AGENT_FIELDS = {
    "id",
    "tenant_id",
    "name",
    "system_prompt",
    "model",
    "temperature",
    "max_tokens",
    "use_byok",
    "provider_id",
    "status",
    "mcp_server_ids",
    "created_at",
    "updated_at",
}
KEY_FIELDS = {"id", "name", "prefix", "created_at"}


def bearer(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


@dataclass
class TenantHandle:
    id: str
    key: str
    body: dict[str, Any]

    @property
    def headers(self) -> dict[str, str]:
        return bearer(self.key)


@dataclass
class Api:
    client: TestClient[Any]
    env: InMemoryApp

    @property
    def op(self) -> dict[str, str]:
        return self.env.operator

    @property
    def store(self) -> InMemoryStore:
        return self.env.store

    def tenant(self, name: str | None = None, email: str = "admin@example.com") -> TenantHandle:
        body = {"name": name or f"tenant-{uuid.uuid4().hex[:8]}", "admin_email": email}
        response = self.client.post("/api/tenants", json=body, headers=self.op)
        assert response.status_code == 201, response.text
        created = response.json()
        return TenantHandle(created["id"], created["api_key"], created)

    def agent(self, headers: dict[str, str], **fields: Any) -> dict[str, Any]:
        body = {"name": f"agent-{uuid.uuid4().hex[:8]}", "system_prompt": "Be helpful.", **fields}
        response = self.client.post("/api/agents", json=body, headers=headers)
        assert response.status_code == 201, response.text
        agent: dict[str, Any] = response.json()
        return agent

    def issue_key(self, tenant_id: str, headers: dict[str, str], name: str = "k") -> dict[str, Any]:
        url = f"/api/tenants/{tenant_id}/api-keys"
        response = self.client.post(url, json={"name": name}, headers=headers)
        assert response.status_code == 201, response.text
        key: dict[str, Any] = response.json()
        return key


@contextmanager
def open_api(mcp: McpServices | None = None) -> Iterator[Api]:
    env = in_memory_app(mcp)
    with TestClient(env.app) as client:
        yield Api(client, env)


def assert_uuid(value: Any) -> None:
    assert isinstance(value, str)
    assert str(uuid.UUID(value)) == value.lower()


def assert_timestamp(value: Any) -> datetime:
    assert isinstance(value, str)
    parsed = datetime.fromisoformat(value)
    assert parsed.tzinfo is not None and parsed.utcoffset() is not None
    return parsed


def assert_detail(response: httpx.Response, status: int, detail: str | None = None) -> None:
    assert response.status_code == status, response.text
    body = response.json()
    assert isinstance(body.get("detail"), str) and body["detail"]
    if detail is not None:
        assert body == {"detail": detail}


def assert_validation_error(
    response: httpx.Response, field: str | None, source: str | None = None
) -> list[dict[str, Any]]:
    """A 422 in the contract's list shape; `field` (if given) is loc[-1] of some error."""
    assert response.status_code == 422, response.text
    body = response.json()
    assert set(body) == {"detail"}
    errors = body["detail"]
    assert isinstance(errors, list) and errors
    for error in errors:
        assert set(error) == {"loc", "msg", "type"}
        assert isinstance(error["loc"], list) and error["loc"]
        assert all(isinstance(part, str | int) for part in error["loc"])
        assert isinstance(error["msg"], str) and error["msg"]
        assert isinstance(error["type"], str) and error["type"]
    if field is not None:
        assert any(e["loc"][-1] == field for e in errors), errors
    if source is not None:
        assert any(e["loc"][0] == source for e in errors), errors
    return list(errors)


def snapshot(store: InMemoryStore) -> dict[str, dict[Any, str]]:
    """Everything in the store, by value (dataclass reprs show every field)."""
    return {
        table: {k: repr(v) for k, v in getattr(store, table).items()}
        for table in ("tenants", "agents", "api_keys")
    }


def counts(store: InMemoryStore) -> tuple[int, int, int]:
    return len(store.tenants), len(store.agents), len(store.api_keys)
