"""The data shared by in-memory units of work: one store plays the role of the database."""

import asyncio
import uuid
from dataclasses import dataclass, field
from typing import Any

from application.ports.orphan_repository import GatewayOrphan
from application.ports.provider_repository import ProviderSecrets
from application.ports.secret_box import SealedSecret
from domain.agent import Agent
from domain.api_key import ApiKey
from domain.execution import Execution
from domain.mcp_server import McpServer
from domain.provider import LlmProvider
from domain.tenant import Tenant


@dataclass
class ProviderRow:
    id: uuid.UUID
    tenant_id: uuid.UUID
    provider: LlmProvider
    secrets: ProviderSecrets


@dataclass
class McpServerRow:
    id: uuid.UUID
    tenant_id: uuid.UUID
    server: McpServer
    env: dict[str, SealedSecret]


@dataclass
class InMemoryStore:
    tenants: dict[uuid.UUID, Tenant] = field(default_factory=dict)
    agents: dict[uuid.UUID, Agent] = field(default_factory=dict)
    api_keys: dict[uuid.UUID, ApiKey] = field(default_factory=dict)
    providers: dict[uuid.UUID, ProviderRow] = field(default_factory=dict)
    executions: dict[uuid.UUID, Execution] = field(default_factory=dict)
    orphans: dict[uuid.UUID, GatewayOrphan] = field(default_factory=dict)
    idempotency: dict[uuid.UUID, Any] = field(default_factory=dict)
    # Webhooks and deliveries (adapters/in_memory/webhooks.py, deliveries.py).
    webhook_secrets: dict[uuid.UUID, Any] = field(default_factory=dict)
    ticket_systems: dict[uuid.UUID, Any] = field(default_factory=dict)
    webhook_receipts: dict[uuid.UUID, Any] = field(default_factory=dict)
    deliveries: dict[uuid.UUID, Any] = field(default_factory=dict)
    delivery_attempts: dict[uuid.UUID, Any] = field(default_factory=dict)
    mcp_servers: dict[uuid.UUID, McpServerRow] = field(default_factory=dict)
    # Idempotency keys locked by units of work in flight (PostgreSQL: advisory locks).
    idempotency_locks: set[uuid.UUID] = field(default_factory=set)
    # Serializes commits so that check-then-apply is atomic, as a database would make it.
    commit_lock: asyncio.Lock = field(default_factory=asyncio.Lock)
