import uuid
from datetime import datetime
from typing import Annotated, Any

from msgspec import UNSET, Meta, Struct, UnsetType

from domain.mcp_server import (
    MAX_ARG_LENGTH,
    MAX_ARGS,
    MAX_ENV_VALUE_LENGTH,
    MAX_ENV_VARS,
    MAX_URL_LENGTH,
    McpServer,
    McpServerStatus,
    McpTransport,
)

MASK = "***"
Name = Annotated[str, Meta(min_length=1, max_length=200)]
Command = Annotated[str, Meta(min_length=1, max_length=1024)]
Url = Annotated[str, Meta(min_length=1, max_length=MAX_URL_LENGTH)]
Args = Annotated[list[Annotated[str, Meta(max_length=MAX_ARG_LENGTH)]], Meta(max_length=MAX_ARGS)]
EnvName = Annotated[str, Meta(pattern=r"^[A-Za-z_][A-Za-z0-9_]{0,127}$")]
EnvVars = Annotated[
    dict[EnvName, Annotated[str, Meta(max_length=MAX_ENV_VALUE_LENGTH)]],
    Meta(max_length=MAX_ENV_VARS),
]


class McpServerCreate(Struct, forbid_unknown_fields=True):
    name: Name
    transport_type: McpTransport
    tenant_id: uuid.UUID | None = None
    command: Command | None = None
    args: Args = []
    env_vars: EnvVars = {}
    url: Url | None = None


class McpServerPatch(Struct, forbid_unknown_fields=True):
    name: Name | UnsetType = UNSET
    transport_type: McpTransport | UnsetType = UNSET
    command: Command | None | UnsetType = UNSET
    args: Args | None | UnsetType = UNSET
    env_vars: EnvVars | None | UnsetType = UNSET  # replaces the whole set; null clears it
    url: Url | None | UnsetType = UNSET

    def changes(self) -> dict[str, object]:
        sent = ((name, getattr(self, name)) for name in self.__struct_fields__)
        return {name: value for name, value in sent if value is not UNSET}


class McpToolOut(Struct):
    name: str
    description: str
    input_schema: dict[str, Any]


class McpServerOut(Struct):
    id: uuid.UUID
    tenant_id: uuid.UUID
    name: str
    transport_type: McpTransport
    command: str | None
    args: list[str]
    env_vars: dict[str, str]  # values always masked
    url: str | None
    status: McpServerStatus
    tools: list[McpToolOut]
    last_error: str | None
    last_checked_at: datetime | None
    created_at: datetime
    updated_at: datetime

    @classmethod
    def of(cls, s: McpServer) -> "McpServerOut":
        return cls(
            id=s.id,
            tenant_id=s.tenant_id,
            name=s.name,
            transport_type=s.transport_type,
            command=s.command,
            args=list(s.args),
            env_vars=dict.fromkeys(s.env_var_names, MASK),
            url=s.url,
            status=s.status,
            tools=[McpToolOut(t.name, t.description, t.input_schema) for t in s.tools],
            last_error=s.last_error,
            last_checked_at=s.last_checked_at,
            created_at=s.created_at,
            updated_at=s.updated_at,
        )
