"""Agents: a tenant's configured LLM persona (prompt, model, sampling, lifecycle status)."""

import enum
import math
import uuid
from dataclasses import dataclass
from datetime import datetime

from domain import validation
from domain.errors import InvalidValue

DEFAULT_MODEL = "gpt-4o-mini"
DEFAULT_TEMPERATURE = 0.7
MAX_SYSTEM_PROMPT_LENGTH = 100_000
MAX_MODEL_NAME_LENGTH = 200
MAX_TOKENS_LIMIT = 1_000_000
MAX_MCP_SERVERS = 20


class AgentStatus(enum.StrEnum):
    DRAFT = "draft"
    ACTIVE = "active"
    SUSPENDED = "suspended"
    INACTIVE = "inactive"


# The one status whose agents may run (and be listed as models).
RUNNABLE = AgentStatus.ACTIVE


@dataclass(slots=True, eq=False)
class Agent:
    id: uuid.UUID
    tenant_id: uuid.UUID
    name: str
    system_prompt: str
    created_at: datetime
    updated_at: datetime
    model: str = DEFAULT_MODEL
    temperature: float = DEFAULT_TEMPERATURE
    max_tokens: int | None = None
    use_byok: bool = False
    provider_id: uuid.UUID | None = None
    status: AgentStatus = AgentStatus.ACTIVE
    # The tenant's MCP servers whose tools this agent's runs may call.
    mcp_server_ids: tuple[uuid.UUID, ...] = ()

    def __post_init__(self) -> None:
        self._validate()

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Agent) and other.id == self.id

    def __hash__(self) -> int:
        return hash(self.id)

    def _validate(self) -> None:
        validation.name("name", self.name)
        validation.text(
            "system_prompt", self.system_prompt, min_len=0, max_len=MAX_SYSTEM_PROMPT_LENGTH
        )
        validation.name("model", self.model, max_len=MAX_MODEL_NAME_LENGTH)
        if isinstance(self.temperature, bool) or not isinstance(self.temperature, int | float):
            raise InvalidValue("temperature", "must be a number")
        if not math.isfinite(self.temperature) or not 0 <= self.temperature <= 2:
            raise InvalidValue("temperature", "must be between 0 and 2")
        if self.max_tokens is not None and (
            isinstance(self.max_tokens, bool)
            or not isinstance(self.max_tokens, int)
            or not 0 < self.max_tokens <= MAX_TOKENS_LIMIT
        ):
            raise InvalidValue("max_tokens", f"must be an integer between 1 and {MAX_TOKENS_LIMIT}")
        try:
            self.status = AgentStatus(self.status)
        except ValueError:
            allowed = ", ".join(s.value for s in AgentStatus)
            raise InvalidValue("status", f"must be one of {allowed}") from None
        ids = self.mcp_server_ids
        if (
            not isinstance(ids, tuple)
            or len(ids) > MAX_MCP_SERVERS
            or not all(isinstance(i, uuid.UUID) for i in ids)
        ):
            raise InvalidValue("mcp_server_ids", f"must be a list of at most {MAX_MCP_SERVERS} ids")
        if len(set(ids)) != len(ids):
            raise InvalidValue("mcp_server_ids", "must not repeat an id")

    def update(self, changes: dict[str, object], now: datetime) -> None:
        """Apply a partial update; all-or-nothing if any new value breaks a rule."""
        unknown = set(changes) - UPDATABLE_FIELDS
        if unknown:
            raise InvalidValue(sorted(unknown)[0], "cannot be changed")
        before = {name: getattr(self, name) for name in changes}
        for name, value in changes.items():
            setattr(self, name, value)
        try:
            self._validate()
        except InvalidValue:
            for name, value in before.items():
                setattr(self, name, value)
            raise
        self.updated_at = now

    @property
    def is_runnable(self) -> bool:
        return self.status is RUNNABLE


UPDATABLE_FIELDS = frozenset(
    {
        "name",
        "system_prompt",
        "model",
        "temperature",
        "max_tokens",
        "use_byok",
        "provider_id",
        "status",
        "mcp_server_ids",
    }
)
