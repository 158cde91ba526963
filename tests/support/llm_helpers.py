"""Helpers for the provider and execution tests: a gateway that can be down, entities,
secret boxes, HTTP shortcuts and superuser SQL."""

import base64
import hashlib
import os
import uuid
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from datetime import timedelta
from typing import Any

import httpx
from sqlalchemy import create_engine, pool, text
from sqlalchemy.ext.asyncio import AsyncEngine

from adapters.fake_llm.gateway import FakeLlmGateway
from adapters.in_memory.job_queue import InMemoryJobQueue
from adapters.nacl.secret_box import NaclSecretBox
from adapters.sqlalchemy.urls import sqlalchemy_url
from application.gateway_errors import GatewayUnavailable
from application.ports.llm_gateway import LlmGateway
from application.ports.orphan_repository import GatewayOrphan
from application.ports.provider_repository import ProviderSecrets
from application.ports.secret_box import SealedSecret, SecretBox
from domain.execution import AgentSnapshot, Execution
from domain.ids import new_id
from domain.provider import LlmProvider
from entrypoints.composition import http_dependencies
from entrypoints.http.app import create_app
from tests.support.factories import NOW, unique
from tests.support.mcp.world import mcp_services_for_tests
from tests.support.sql_app import bearer

ADMIN_METHODS = ("register_deployment", "create_virtual_key", "revoke_key", "remove_deployment")


class FlakyGateway(FakeLlmGateway):
    """The fake gateway, plus: every call is logged in order, methods named in `down`
    (or "*") fail with GatewayUnavailable until taken out, and `on_call` runs first."""

    def __init__(self) -> None:
        super().__init__()
        self.log: list[str] = []
        self.down: set[str] = set()
        self.on_call: Callable[[str], None] | None = None

    def _maybe_fail(self, method: str) -> None:
        self.log.append(method)
        if self.on_call is not None:
            self.on_call(method)
        if method in self.down or "*" in self.down:
            raise GatewayUnavailable(f"{method}: the gateway is down")
        super()._maybe_fail(method)

    def admin_calls(self) -> list[str]:
        return [m for m in self.log if m in ADMIN_METHODS]

    def key_by_alias(self, alias: str) -> list[str]:
        return [k for k, r in self.registry.keys.items() if r.alias == alias]

    def live_keys(self) -> list[str]:
        return [k for k, r in self.registry.keys.items() if not r.revoked]


def key_ring(*kids: str) -> str:
    """`kid:base64key,...` with a deterministic key per kid."""
    return ",".join(
        f"{kid}:{base64.b64encode(hashlib.sha256(kid.encode()).digest()).decode()}" for kid in kids
    )


def box_of(*kids: str) -> NaclSecretBox:
    return NaclSecretBox.from_env_value(key_ring(*kids))


def canary(label: str = "canary") -> str:
    return f"sk-{label}-{os.urandom(16).hex()}"


def encodings(secret: str) -> list[str]:
    """The secret as text, hex, and base64 at each of the three byte alignments."""
    raw = secret.encode()
    forms = [secret, raw.hex(), raw.hex().upper()]
    for shift in range(3):
        chunk = raw[shift:]
        chunk = chunk[: len(chunk) - len(chunk) % 3]
        forms.append(base64.b64encode(chunk).decode())
        forms.append(base64.urlsafe_b64encode(chunk).decode())
    return forms


def a_provider(tenant_id: uuid.UUID, **overrides: Any) -> LlmProvider:
    values: dict[str, Any] = {
        "id": new_id(),
        "tenant_id": tenant_id,
        "provider_name": "openai",
        "model": "gpt-4o-mini",
        "key_hint": "...abcd",
        "created_at": NOW,
        "updated_at": NOW,
        "deployment_id": unique("dep"),
        "virtual_key_id": unique("tok"),
    }
    values.update(overrides)
    return LlmProvider(**values)


def an_orphan(tenant_id: uuid.UUID | None) -> GatewayOrphan:
    return GatewayOrphan(
        id=new_id(), tenant_id=tenant_id, kind="virtual_key", reference="tok-1",
        created_at=NOW, secret=SealedSecret("k1", b"\x00sealed\xff"), attempts=1,
    )  # fmt: skip


def some_secrets(kid: str = "k1") -> ProviderSecrets:
    return ProviderSecrets(
        api_key=SealedSecret(kid, os.urandom(48)), virtual_key=SealedSecret(kid, os.urandom(48))
    )


def an_execution(tenant_id: uuid.UUID, agent_id: uuid.UUID, second: int = 0) -> Execution:
    snapshot = AgentSnapshot("gpt-4o-mini", 0.3, 64, hashlib.sha256(b"p").hexdigest(), False, None)
    return Execution(
        id=new_id(),
        tenant_id=tenant_id,
        agent_id=agent_id,
        input=f"run {second}",
        snapshot=snapshot,
        created_at=NOW + timedelta(seconds=second),
    )


# --- HTTP over the SQL app -------------------------------------------------------------


async def new_tenant(
    client: httpx.AsyncClient, operator: dict[str, str]
) -> tuple[str, dict[str, str]]:
    body = {"name": unique("tenant"), "admin_email": "ops@example.com"}
    response = await client.post("/api/tenants", json=body, headers=operator)
    assert response.status_code == 201, response.text
    return response.json()["id"], bearer(response.json()["api_key"])


def provider_body(**fields: Any) -> dict[str, Any]:
    return {"provider_name": "openai", "api_key": canary("prov"), "model": "gpt-4o-mini", **fields}


async def add_provider(
    client: httpx.AsyncClient, tenant_id: str, headers: dict[str, str], **fields: Any
) -> dict[str, Any]:
    url = f"/api/tenants/{tenant_id}/providers"
    response = await client.post(url, json=provider_body(**fields), headers=headers)
    assert response.status_code == 201, response.text
    created: dict[str, Any] = response.json()
    return created


async def add_agent(
    client: httpx.AsyncClient, headers: dict[str, str], **fields: Any
) -> dict[str, Any]:
    body = {"name": unique("agent"), "system_prompt": "Be brief.", **fields}
    response = await client.post("/api/agents", json=body, headers=headers)
    assert response.status_code == 201, response.text
    agent: dict[str, Any] = response.json()
    return agent


# --- superuser SQL (bypasses row-level security) ---------------------------------------


def admin_query(url: str, sql: str, **params: Any) -> list[Any]:
    engine = create_engine(sqlalchemy_url(url), poolclass=pool.NullPool)
    try:
        with engine.begin() as conn:
            result = conn.execute(text(sql), params)
            return list(result) if result.returns_rows else []
    finally:
        engine.dispose()


@asynccontextmanager
async def client_with_box(
    engine: AsyncEngine, gateway: LlmGateway, box: SecretBox
) -> AsyncIterator[httpx.AsyncClient]:
    """Like `sql_app.sql_client`, with a secret box of the test's choosing."""
    deps = http_dependencies(engine, gateway, box, InMemoryJobQueue(), mcp=mcp_services_for_tests())
    app = create_app(deps)
    transport = httpx.ASGITransport(app=app)  # type: ignore[arg-type]
    async with httpx.AsyncClient(transport=transport, base_url="http://agentkeel") as client:
        yield client
