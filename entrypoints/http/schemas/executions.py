import uuid
from datetime import datetime
from typing import Annotated, Any

from msgspec import Meta, Struct

from domain.execution import MAX_INPUT_LENGTH, Execution, ExecutionStatus
from entrypoints.http.schemas.webhooks import WriteBackOut

# No whitespace or control character after the scheme. Spelled out rather than \S, which
# Python (msgspec) and JSON Schema (ECMA-262) read differently for \x1c-\x1f, \x85, \ufeff.
CALLBACK_URL = r"^https?://[^\s\x00-\x1f\x7f\x85\ufeff]+$"
Input = Annotated[str, Meta(min_length=1, max_length=MAX_INPUT_LENGTH)]


class ExecuteNow(Struct, forbid_unknown_fields=True):
    agent_id: uuid.UUID
    input: Input
    stream: bool = False  # true (or `Accept: text/event-stream`): server-sent events


class ExecutionSubmit(Struct, forbid_unknown_fields=True):
    input: Input
    callback_url: (
        Annotated[str, Meta(min_length=8, max_length=2048, pattern=CALLBACK_URL)] | None
    ) = None


class QueuedOut(Struct):
    id: uuid.UUID
    status: ExecutionStatus


class UsageOut(Struct):
    prompt_tokens: int
    completion_tokens: int
    total_tokens: int


class ExecutedOut(Struct):
    execution_id: uuid.UUID
    status: ExecutionStatus
    output: str | None
    model: str | None
    usage: UsageOut | None
    cost: float | None
    latency_ms: int | None


class ToolCallOut(Struct):
    step: int
    tool: str
    server_id: uuid.UUID | None
    arguments: Any
    duration_ms: int
    result_size: int
    error: str | None


class ExecutionOut(Struct):
    id: uuid.UUID
    agent_id: uuid.UUID
    tenant_id: uuid.UUID
    status: ExecutionStatus
    input: str
    output: str | None
    error: str | None
    usage: UsageOut | None
    cost: float | None
    model: str | None
    latency_ms: int | None
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None
    attempts: int
    cancel_requested: bool
    tool_calls: list[ToolCallOut]
    # A ticket webhook's job: how writing the result back to the ticket went (GET one only).
    ticket_writeback: WriteBackOut | None = None

    @classmethod
    def of(cls, e: Execution) -> "ExecutionOut":
        return cls(
            id=e.id,
            agent_id=e.agent_id,
            tenant_id=e.tenant_id,
            status=e.status,
            input=e.input,
            output=e.output,
            error=e.error,
            usage=usage_of(e),
            cost=e.cost,
            model=e.model,
            latency_ms=e.latency_ms,
            created_at=e.created_at,
            started_at=e.started_at,
            finished_at=e.finished_at,
            attempts=e.attempts,
            cancel_requested=e.cancel_requested,
            tool_calls=[
                ToolCallOut(
                    c.step, c.tool, c.server_id, c.arguments, c.duration_ms, c.result_size, c.error
                )
                for c in e.tool_calls
            ],
        )


def usage_of(e: Execution) -> UsageOut | None:
    u = e.usage
    return None if u is None else UsageOut(u.prompt_tokens, u.completion_tokens, u.total_tokens)


def executed(e: Execution) -> ExecutedOut:
    return ExecutedOut(
        execution_id=e.id,
        status=e.status,
        output=e.output,
        model=e.model,
        usage=usage_of(e),
        cost=e.cost,
        latency_ms=e.latency_ms,
    )
