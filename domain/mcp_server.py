"""MCP servers: a tenant's registered tool servers, how to reach them, and what they offer.

The values of `env_vars` are secrets: they never live on the entity (the application seals
them beside it); the entity knows only their names.
"""

import enum
import re
import uuid
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from domain import validation
from domain.errors import InvalidValue

MAX_ARGS = 64
MAX_ARG_LENGTH = 4096
MAX_ENV_VARS = 64
MAX_ENV_VALUE_LENGTH = 16_384
MAX_URL_LENGTH = 2048
MAX_ERROR_LENGTH = 2000
_ENV_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,127}$")
_HTTP_URL = re.compile(r"^https?://[^\s/?#@]+(/[^\s]*)?$", re.IGNORECASE)


class McpTransport(enum.StrEnum):
    STDIO = "stdio"
    HTTP_SSE = "http_sse"
    STREAMABLE_HTTP = "streamable_http"


class McpServerStatus(enum.StrEnum):
    PENDING = "pending"  # never checked, or changed since the last check
    ACTIVE = "active"
    ERROR = "error"


@dataclass(frozen=True, slots=True)
class McpTool:
    """A tool as the server described it; `input_schema` is its JSON Schema."""

    name: str
    description: str = ""
    input_schema: dict[str, Any] = field(default_factory=dict)


def check_env_vars(env_vars: dict[str, str]) -> dict[str, str]:
    if not isinstance(env_vars, dict) or len(env_vars) > MAX_ENV_VARS:
        raise InvalidValue("env_vars", f"must be an object of at most {MAX_ENV_VARS} strings")
    for name, value in env_vars.items():
        if not isinstance(name, str) or not _ENV_NAME.match(name):
            raise InvalidValue("env_vars", "names must look like environment variable names")
        validation.text("env_vars", value, min_len=0, max_len=MAX_ENV_VALUE_LENGTH)
    return env_vars


def _check_args(args: tuple[str, ...]) -> None:
    if not isinstance(args, tuple) or len(args) > MAX_ARGS:
        raise InvalidValue("args", f"must be a list of at most {MAX_ARGS} strings")
    for arg in args:
        validation.text("args", arg, min_len=0, max_len=MAX_ARG_LENGTH)


@dataclass(slots=True, eq=False)
class McpServer:
    id: uuid.UUID
    tenant_id: uuid.UUID
    name: str
    transport_type: McpTransport
    created_at: datetime
    updated_at: datetime
    command: str | None = None
    args: tuple[str, ...] = ()
    env_var_names: tuple[str, ...] = ()
    url: str | None = None
    status: McpServerStatus = McpServerStatus.PENDING
    tools: tuple[McpTool, ...] = ()
    last_error: str | None = None
    last_checked_at: datetime | None = None

    def __post_init__(self) -> None:
        self._validate()

    def __eq__(self, other: object) -> bool:
        return isinstance(other, McpServer) and other.id == self.id

    def __hash__(self) -> int:
        return hash(self.id)

    def _validate(self) -> None:
        validation.name("name", self.name)
        try:
            self.transport_type = McpTransport(self.transport_type)
        except ValueError:
            allowed = ", ".join(t.value for t in McpTransport)
            raise InvalidValue("transport_type", f"must be one of {allowed}") from None
        self.status = McpServerStatus(self.status)
        _check_args(self.args)
        if self.is_stdio:
            self._validate_stdio()
        else:
            self._validate_http()

    def _validate_stdio(self) -> None:
        if self.command is None:
            raise InvalidValue("command", "is required for the stdio transport")
        validation.text("command", self.command, max_len=1024)
        if not self.command.startswith("/"):
            raise InvalidValue("command", "must be an absolute path")
        if self.url is not None:
            raise InvalidValue("url", "is only for the http_sse and streamable_http transports")

    def _validate_http(self) -> None:
        if self.url is None:
            raise InvalidValue("url", f"is required for the {self.transport_type.value} transport")
        validation.text("url", self.url, max_len=MAX_URL_LENGTH)
        if not _HTTP_URL.match(self.url):
            raise InvalidValue("url", "must be an http(s) URL without credentials")
        for name, value in (("command", self.command), ("args", self.args)):
            if value:
                raise InvalidValue(name, "is only for the stdio transport")
        if self.env_var_names:
            raise InvalidValue("env_vars", "is only for the stdio transport")

    @property
    def is_stdio(self) -> bool:
        return self.transport_type is McpTransport.STDIO

    @property
    def is_active(self) -> bool:
        return self.status is McpServerStatus.ACTIVE

    def reconfigure(self, changes: dict[str, Any], now: datetime) -> None:
        """Apply a partial update, all-or-nothing. A change of how the server is reached
        forgets what the last check found: it is `pending` until checked again."""
        unknown = set(changes) - UPDATABLE_FIELDS
        if unknown:
            raise InvalidValue(sorted(unknown)[0], "cannot be changed")
        before = {name: getattr(self, name) for name in (*changes, "status", "tools")}
        for name, value in changes.items():
            setattr(self, name, value)
        try:
            self._validate()
        except InvalidValue:
            for name, value in before.items():
                setattr(self, name, value)
            raise
        if set(changes) - {"name"}:
            self.status, self.tools = McpServerStatus.PENDING, ()
        self.updated_at = now

    def record_check(
        self, tools: tuple[McpTool, ...] | None, error: str | None, now: datetime
    ) -> None:
        """The outcome of a connection: its tools (active) or why it failed (error)."""
        if error is not None:
            self.status, self.last_error = McpServerStatus.ERROR, error[:MAX_ERROR_LENGTH]
            self.tools = ()
        else:
            self.status, self.last_error, self.tools = McpServerStatus.ACTIVE, None, tools or ()
        self.last_checked_at = now


UPDATABLE_FIELDS = frozenset({"name", "transport_type", "command", "args", "env_var_names", "url"})
