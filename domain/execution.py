"""Executions: one run of an agent, with the configuration it ran with and what it cost."""

import enum
import hashlib
import uuid
from dataclasses import dataclass
from datetime import datetime

from domain import validation
from domain.agent import Agent
from domain.errors import Conflict
from domain.tool_call import ToolCallRecord

MAX_INPUT_LENGTH = 200_000


class ExecutionStatus(enum.StrEnum):
    QUEUED = "queued"
    RUNNING = "running"
    SUCCESS = "success"
    FAILED = "failed"
    CANCELLED = "cancelled"
    TIMED_OUT = "timed_out"


FINISHED = frozenset(
    {
        ExecutionStatus.SUCCESS,
        ExecutionStatus.FAILED,
        ExecutionStatus.CANCELLED,
        ExecutionStatus.TIMED_OUT,
    }
)


@dataclass(frozen=True, slots=True)
class TokenUsage:
    prompt_tokens: int
    completion_tokens: int
    total_tokens: int


@dataclass(frozen=True, slots=True)
class AgentSnapshot:
    """The agent's configuration at the time of the run; the prompt is kept as a hash."""

    model: str
    temperature: float
    max_tokens: int | None
    system_prompt_sha256: str
    use_byok: bool
    provider_id: uuid.UUID | None

    @classmethod
    def of(cls, agent: Agent, provider_id: uuid.UUID | None) -> "AgentSnapshot":
        digest = hashlib.sha256(agent.system_prompt.encode()).hexdigest()
        return cls(
            agent.model, agent.temperature, agent.max_tokens, digest, agent.use_byok, provider_id
        )


@dataclass(slots=True, eq=False)
class Execution:
    id: uuid.UUID
    tenant_id: uuid.UUID
    agent_id: uuid.UUID
    input: str
    snapshot: AgentSnapshot
    created_at: datetime
    status: ExecutionStatus = ExecutionStatus.QUEUED
    output: str | None = None
    error: str | None = None
    usage: TokenUsage | None = None
    cost: float | None = None
    model: str | None = None
    latency_ms: int | None = None
    started_at: datetime | None = None
    finished_at: datetime | None = None
    callback_url: str | None = None
    # Queued work: which worker holds it, until when, how often it was tried, and whether
    # the caller asked to stop it. For a queued row the lease time is when the reaper
    # should enqueue it again if no worker has taken it by then.
    attempts: int = 0
    claimed_by: str | None = None
    lease_expires_at: datetime | None = None
    cancel_requested: bool = False
    # The MCP tool calls the model asked for, in the order they ran.
    tool_calls: tuple[ToolCallRecord, ...] = ()

    def __post_init__(self) -> None:
        validation.text("input", self.input, max_len=MAX_INPUT_LENGTH)
        self.status = ExecutionStatus(self.status)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Execution) and other.id == self.id

    def __hash__(self) -> int:
        return hash(self.id)

    @property
    def is_finished(self) -> bool:
        return self.status in FINISHED

    def start(self, now: datetime) -> None:
        if self.status is not ExecutionStatus.QUEUED:
            raise Conflict(f"Execution is {self.status.value}, not queued")
        self.status, self.started_at = ExecutionStatus.RUNNING, now

    def claim(self, worker: str, now: datetime, lease_until: datetime) -> None:
        if self.status is not ExecutionStatus.QUEUED or self.cancel_requested:
            raise Conflict(f"Execution is {self.status.value}, not queued")
        self.status, self.claimed_by, self.lease_expires_at = (
            ExecutionStatus.RUNNING,
            worker,
            lease_until,
        )
        self.started_at = self.started_at or now
        self.attempts += 1

    def requeue(self, recheck_at: datetime) -> None:
        """Its worker is gone: back to the queue (the reaper enqueues it again)."""
        if self.status is ExecutionStatus.RUNNING:
            self.status, self.claimed_by = ExecutionStatus.QUEUED, None
        self.lease_expires_at = recheck_at

    def request_cancel(self, now: datetime) -> None:
        """A queued run is cancelled at once; a running one stops at its next safe point."""
        if self.is_finished:
            return
        self.cancel_requested = True
        if self.status is ExecutionStatus.QUEUED:
            self.cancel(now)

    def succeed(
        self, output: str, model: str, usage: TokenUsage, cost: float | None, now: datetime
    ) -> None:
        self._finish(ExecutionStatus.SUCCESS, now)
        self.output, self.model, self.usage, self.cost = output, model, usage, cost

    def fail(self, error: str, now: datetime, *, timed_out: bool = False) -> None:
        self._finish(ExecutionStatus.TIMED_OUT if timed_out else ExecutionStatus.FAILED, now)
        self.error = error

    def cancel(self, now: datetime) -> None:
        if not self.is_finished:
            self._finish(ExecutionStatus.CANCELLED, now)

    def _finish(self, status: ExecutionStatus, now: datetime) -> None:
        if self.is_finished:
            raise Conflict(f"Execution already ended as {self.status.value}")
        started = self.started_at or now
        self.status, self.finished_at = status, now
        self.lease_expires_at = None
        self.latency_ms = max(0, round((now - started).total_seconds() * 1000))
