"""Entities with unique names, so tests can share one database."""

import uuid
from datetime import UTC, datetime

from domain.agent import Agent
from domain.api_key import ApiKey
from domain.ids import new_id
from domain.tenant import Tenant

NOW = datetime(2026, 11, 24, 12, 0, tzinfo=UTC)


def unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:10]}"


def a_tenant(**overrides: object) -> Tenant:
    values: dict[str, object] = {
        "id": new_id(),
        "name": unique("tenant"),
        "admin_email": "admin@example.com",
        "created_at": NOW,
        "updated_at": NOW,
    }
    values.update(overrides)
    return Tenant(**values)  # type: ignore[arg-type]


def an_agent(tenant_id: uuid.UUID, **overrides: object) -> Agent:
    values: dict[str, object] = {
        "id": new_id(),
        "tenant_id": tenant_id,
        "name": unique("agent"),
        "system_prompt": "You are helpful.",
        "created_at": NOW,
        "updated_at": NOW,
    }
    values.update(overrides)
    return Agent(**values)  # type: ignore[arg-type]


def a_key(tenant_id: uuid.UUID | None) -> tuple[ApiKey, str]:
    prefix = "ak_op_" if tenant_id is None else "ak_tn_"
    token = prefix + uuid.uuid4().hex + uuid.uuid4().hex
    key = ApiKey.from_token(id=new_id(), tenant_id=tenant_id, name="k", token=token, now=NOW)
    return key, token
