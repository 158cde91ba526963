"""The data shared by in-memory units of work: one store plays the role of the database."""

import asyncio
import uuid
from dataclasses import dataclass, field

from domain.agent import Agent
from domain.api_key import ApiKey
from domain.tenant import Tenant


@dataclass
class InMemoryStore:
    tenants: dict[uuid.UUID, Tenant] = field(default_factory=dict)
    agents: dict[uuid.UUID, Agent] = field(default_factory=dict)
    api_keys: dict[uuid.UUID, ApiKey] = field(default_factory=dict)
    # Serializes commits so that check-then-apply is atomic, as a database would make it.
    commit_lock: asyncio.Lock = field(default_factory=asyncio.Lock)
