import uuid
from collections.abc import Callable
from datetime import datetime
from typing import Any

from psycopg.types.json import Jsonb
from sqlalchemy import Integer, bindparam, case, func, insert, literal_column, select, update

from adapters.sqlalchemy.executor import Executor
from adapters.sqlalchemy.repositories import agent_from
from adapters.sqlalchemy.statements import Statement
from adapters.sqlalchemy.tables import agents
from adapters.sqlalchemy.tables import executions as t
from application.ports.page import Page
from domain.agent import Agent
from domain.execution import AgentSnapshot, Execution, ExecutionStatus, TokenUsage
from domain.tool_call import ToolCallRecord

_PLAIN = (
    "id",
    "tenant_id",
    "agent_id",
    "input",
    "output",
    "error",
    "cost",
    "model",
    "latency_ms",
    "created_at",
    "started_at",
    "finished_at",
    "callback_url",
    "attempts",
    "claimed_by",
    "lease_expires_at",
    "cancel_requested",
)


def _values(e: Execution) -> dict[str, Any]:
    values = {name: getattr(e, name) for name in _PLAIN}
    usage, snap = e.usage, e.snapshot
    values.update(
        status=e.status.value,
        prompt_tokens=usage and usage.prompt_tokens,
        completion_tokens=usage and usage.completion_tokens,
        total_tokens=usage and usage.total_tokens,
        config_model=snap.model,
        config_temperature=snap.temperature,
        config_max_tokens=snap.max_tokens,
        config_system_prompt_sha256=snap.system_prompt_sha256,
        config_use_byok=snap.use_byok,
        config_provider_id=snap.provider_id,
        # Bound as jsonb by psycopg (these statements bypass SQLAlchemy's type handling).
        tool_calls=Jsonb([c.as_json() for c in e.tool_calls]),
    )
    return values


_COLUMNS = (
    *_PLAIN,
    "status",
    "prompt_tokens",
    "completion_tokens",
    "total_tokens",
    "config_model",
    "config_temperature",
    "config_max_tokens",
    "config_system_prompt_sha256",
    "config_use_byok",
    "config_provider_id",
    "tool_calls",
)

# What a run can change after it was recorded; the input and the configuration snapshot
# (possibly large) are written once.
_MUTABLE = (
    "status",
    "output",
    "error",
    "prompt_tokens",
    "completion_tokens",
    "total_tokens",
    "cost",
    "model",
    "latency_ms",
    "started_at",
    "finished_at",
    "attempts",
    "claimed_by",
    "lease_expires_at",
    "tool_calls",
)


# Not cancel_requested: only request_cancel() writes it, so no stale copy can clear it.
def _changes(e: Execution) -> dict[str, Any]:
    values = _values(e)
    return {name: values[name] for name in _MUTABLE}


def _execution(row: Any) -> Execution:
    usage = None
    if row.total_tokens is not None:
        usage = TokenUsage(row.prompt_tokens, row.completion_tokens, row.total_tokens)
    snapshot = AgentSnapshot(
        model=row.config_model,
        temperature=row.config_temperature,
        max_tokens=row.config_max_tokens,
        system_prompt_sha256=row.config_system_prompt_sha256,
        use_byok=row.config_use_byok,
        provider_id=row.config_provider_id,
    )
    return Execution(
        **{name: getattr(row, name) for name in _PLAIN},
        snapshot=snapshot,
        status=ExecutionStatus(row.status),
        usage=usage,
        tool_calls=tuple(ToolCallRecord.from_json(c) for c in row.tool_calls or ()),
    )


# The run's statements, for the unit of work's batches (adapters/sqlalchemy/statements.py).
# Bind names differ from column names, as UPDATE requires.
_BY_ID = t.c.id == bindparam("p_id")
_HELD = (t.c.status == "running", t.c.claimed_by == bindparam("p_worker"))
_ONE = literal_column("1", Integer)


# Around an UPDATE `RETURNING 1`: the statement aborts its transaction if the UPDATE
# matched no row. `expect_rows` (migration 0006) raises with the `p_expected` it is given,
# mapped to a domain error by adapters/sqlalchemy/errors.py, so the UPDATE can go out with
# the COMMIT.
_EXPECTING_A_ROW = (
    "WITH changed AS ({}) SELECT expect_rows(count(*), %(p_expected)s::text) FROM changed"
)


_INSERT = Statement(insert(t), columns=_COLUMNS)
_GET = Statement(select(t).where(_BY_ID), reads_only=True)
_UPDATE = Statement(
    update(t).where(_BY_ID).returning(_ONE),
    columns=_MUTABLE,
    around=(_EXPECTING_A_ROW, {"p_expected": "Execution"}),
)
_CLAIM = Statement(
    update(t)
    .where(_BY_ID, t.c.status == "queued", t.c.cancel_requested.is_(False))
    .values(
        status="running",
        claimed_by=bindparam("p_worker"),
        lease_expires_at=bindparam("p_lease"),
        started_at=func.coalesce(t.c.started_at, bindparam("p_now")),
        attempts=t.c.attempts + 1,
    )
    .returning(*t.c),
)
# Sent with the claim: the worker reads the execution's agent next.
_AGENT_OF = Statement(
    select(agents).where(agents.c.id == select(t.c.agent_id).where(_BY_ID).scalar_subquery()),
    reads_only=True,
)
_RENEW = Statement(
    update(t).where(_BY_ID, *_HELD).values(lease_expires_at=bindparam("p_lease")).returning(*t.c),
)
_FINISH = Statement(
    update(t).where(_BY_ID, *_HELD).returning(_ONE),
    columns=_MUTABLE,
    around=(_EXPECTING_A_ROW, {"p_expected": "Execution lease"}),
)


class SqlExecutionRepository:
    """The run's writes go out with what the unit of work holds back (its BEGIN, tenant
    context) and, for the INSERT and the final UPDATE, with its COMMIT: a sync run's two
    writes take 2 round trips, not 5."""

    def __init__(self, conn: Executor, read_ahead: Callable[[Agent], None]) -> None:
        self._conn, self._read_ahead = conn, read_ahead

    async def add(self, execution: Execution) -> None:
        # Its constraint errors come with the next statement or the commit.
        self._conn.defer(_INSERT.bind(_values(execution)))

    async def get(self, execution_id: uuid.UUID) -> Execution | None:
        row = await self._conn.fetch_one(_GET.bind({"p_id": execution_id}))
        return None if row is None else _execution(row)

    async def update(self, execution: Execution) -> None:
        # NotFound comes with the next statement or the commit, and aborts the transaction.
        params = {"p_id": execution.id, **_changes(execution)}
        self._conn.defer(_UPDATE.bind(params))

    async def claim(
        self, execution_id: uuid.UUID, worker: str, now: datetime, lease_until: datetime
    ) -> Execution | None:
        params = {"p_id": execution_id, "p_worker": worker, "p_lease": lease_until, "p_now": now}
        claimed, agent_of = await self._conn.send(
            _CLAIM.bind(params), _AGENT_OF.bind({"p_id": execution_id})
        )
        row = await claimed.fetchone()
        if row is None:
            return None
        agent_row = await agent_of.fetchone()
        if agent_row is not None:
            self._read_ahead(agent_from(agent_row._asdict()))
        return _execution(row)

    async def renew_lease(
        self, execution_id: uuid.UUID, worker: str, lease_until: datetime
    ) -> Execution | None:
        params = {"p_id": execution_id, "p_worker": worker, "p_lease": lease_until}
        row = await self._conn.fetch_one(_RENEW.bind(params))
        return None if row is None else _execution(row)

    async def finish(self, execution: Execution, worker: str) -> None:
        # LeaseLost comes with the next statement or the commit, and aborts the transaction.
        params = {"p_id": execution.id, "p_worker": worker, **_changes(execution)}
        self._conn.defer(_FINISH.bind(params))

    async def request_cancel(self, execution_id: uuid.UUID, now: datetime) -> Execution | None:
        queued = t.c.status == "queued"
        statement = (
            update(t)
            .where(t.c.id == execution_id, t.c.status.in_(("queued", "running")))
            .values(
                status=case((queued, "cancelled"), else_=t.c.status),
                finished_at=case((queued, now), else_=t.c.finished_at),
                latency_ms=case((queued, 0), else_=t.c.latency_ms),
                lease_expires_at=case((queued, None), else_=t.c.lease_expires_at),
                cancel_requested=True,
            )
            .returning(*t.c)
        )
        row = (await self._conn.execute(statement)).first()
        return None if row is None else _execution(row)

    async def count_by_status(self) -> dict[str, int]:
        statement = select(t.c.status, func.count().label("n")).group_by(t.c.status)
        return {row.status: int(row.n) for row in await self._conn.execute(statement)}

    async def due(self, now: datetime, limit: int) -> list[Execution]:
        statement = (
            select(t)
            .where(t.c.status.in_(("queued", "running")), t.c.lease_expires_at < now)
            .order_by(t.c.lease_expires_at)
            .limit(limit)
            .with_for_update(skip_locked=True)
        )
        return [_execution(row) for row in await self._conn.execute(statement)]

    async def list(
        self,
        tenant_id: uuid.UUID | None,
        page: Page,
        agent_id: uuid.UUID | None = None,
        status: ExecutionStatus | None = None,
    ) -> list[Execution]:
        statement = (
            select(t)
            .order_by(t.c.created_at.desc(), t.c.id.desc())
            .limit(page.limit)
            .offset(page.offset)
        )
        if tenant_id is not None:
            statement = statement.where(t.c.tenant_id == tenant_id)
        if agent_id is not None:
            statement = statement.where(t.c.agent_id == agent_id)
        if status is not None:
            statement = statement.where(t.c.status == status.value)
        return [_execution(row) for row in await self._conn.execute(statement)]
