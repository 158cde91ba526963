import uuid
from datetime import datetime
from typing import Annotated

from msgspec import UNSET, Meta, Struct, UnsetType

from domain.agent import (
    DEFAULT_MODEL,
    DEFAULT_TEMPERATURE,
    MAX_MCP_SERVERS,
    MAX_MODEL_NAME_LENGTH,
    MAX_SYSTEM_PROMPT_LENGTH,
    MAX_TOKENS_LIMIT,
    Agent,
    AgentStatus,
)

Name = Annotated[str, Meta(min_length=1, max_length=200)]
SystemPrompt = Annotated[str, Meta(max_length=MAX_SYSTEM_PROMPT_LENGTH)]
Model = Annotated[str, Meta(min_length=1, max_length=MAX_MODEL_NAME_LENGTH)]
Temperature = Annotated[float, Meta(ge=0, le=2)]
MaxTokens = Annotated[int, Meta(ge=1, le=MAX_TOKENS_LIMIT)]
McpServerIds = Annotated[list[uuid.UUID], Meta(max_length=MAX_MCP_SERVERS)]


class AgentCreate(Struct, forbid_unknown_fields=True):
    name: Name
    system_prompt: SystemPrompt
    tenant_id: uuid.UUID | None = None
    model: Model = DEFAULT_MODEL
    temperature: Temperature = DEFAULT_TEMPERATURE
    max_tokens: MaxTokens | None = None
    use_byok: bool = False
    provider_id: uuid.UUID | None = None
    status: AgentStatus = AgentStatus.ACTIVE
    mcp_server_ids: McpServerIds = []


class AgentPatch(Struct, forbid_unknown_fields=True):
    name: Name | UnsetType = UNSET
    system_prompt: SystemPrompt | UnsetType = UNSET
    model: Model | UnsetType = UNSET
    temperature: Temperature | UnsetType = UNSET
    max_tokens: MaxTokens | None | UnsetType = UNSET
    use_byok: bool | UnsetType = UNSET
    provider_id: uuid.UUID | None | UnsetType = UNSET
    status: AgentStatus | UnsetType = UNSET
    mcp_server_ids: McpServerIds | UnsetType = UNSET

    def changes(self) -> dict[str, object]:
        """Only the fields the caller sent."""
        sent = ((name, getattr(self, name)) for name in self.__struct_fields__)
        changes = {name: value for name, value in sent if value is not UNSET}
        if "mcp_server_ids" in changes:
            changes["mcp_server_ids"] = tuple(self.mcp_server_ids or ())
        return changes


class AgentOut(Struct):
    id: uuid.UUID
    tenant_id: uuid.UUID
    name: str
    system_prompt: str
    model: str
    temperature: float
    max_tokens: int | None
    use_byok: bool
    provider_id: uuid.UUID | None
    status: AgentStatus
    mcp_server_ids: list[uuid.UUID]
    created_at: datetime
    updated_at: datetime

    @classmethod
    def of(cls, agent: Agent) -> "AgentOut":
        return cls(
            id=agent.id,
            tenant_id=agent.tenant_id,
            name=agent.name,
            system_prompt=agent.system_prompt,
            model=agent.model,
            temperature=agent.temperature,
            max_tokens=agent.max_tokens,
            use_byok=agent.use_byok,
            provider_id=agent.provider_id,
            status=agent.status,
            mcp_server_ids=list(agent.mcp_server_ids),
            created_at=agent.created_at,
            updated_at=agent.updated_at,
        )
