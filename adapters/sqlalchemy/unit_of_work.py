"""The SQL unit of work: one pooled connection, one transaction, the caller's context in it.

Round trips matter more than anything else here (see bench/README.md). The pool runs in
autocommit mode so that psycopg does not send its own BEGIN as a separate round trip; the
unit of work opens the transaction itself. What needs no answer of its own is held back
and sent with the next statement, in one simple-protocol message: the BEGIN, the tenant
context of `scope_to`, and deferred INSERTs (sent with the next statement or the COMMIT).
The statements of every request are prepared on each connection and called by name, with
their values as literals (adapters/sqlalchemy/prepared.py and literal.py; docs/database.md).
"""

import hmac
import uuid
from types import TracebackType
from typing import Any, Self

from psycopg import AsyncConnection as PsycopgConnection
from psycopg import AsyncCursor
from psycopg.pq import TransactionStatus
from psycopg.rows import BaseRowFactory, RowMaker, namedtuple_row
from sqlalchemy.engine import CursorResult
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine
from sqlalchemy.sql.expression import Executable

from adapters.sqlalchemy.checkout import Gate, check_in, check_out
from adapters.sqlalchemy.errors import domain_errors
from adapters.sqlalchemy.executions import SqlExecutionRepository
from adapters.sqlalchemy.executor import Executor
from adapters.sqlalchemy.idempotency import SqlIdempotencyRepository
from adapters.sqlalchemy.literal import bytea_literal
from adapters.sqlalchemy.orphans import SqlOrphanRepository
from adapters.sqlalchemy.prepared import Prepared, PreparedStatement, ensure_prepared
from adapters.sqlalchemy.providers import PROVIDERS_FOR_RUN, SqlProviderRepository
from adapters.sqlalchemy.repositories import (
    AGENT_BY_ID,
    SqlAgentRepository,
    SqlApiKeyRepository,
    SqlTenantRepository,
    agent_from,
)
from domain.principal import Principal


def _named_when_read(cursor: Any) -> RowMaker[Any]:
    """psycopg's `namedtuple_row`, made only for a result that is read: a message's answers
    to what was held back (BEGIN, the context, INSERTs) are skipped unread, and making
    the named tuple type for each of them was ~5% of a sync run's CPU in a profile."""
    made: RowMaker[Any] | None = None

    def row(values: Any) -> Any:
        nonlocal made
        if made is None:
            made = namedtuple_row(cursor)
        return made(values)

    return row


_ROWS: BaseRowFactory[Any] = _named_when_read
_KEY_LOOKUP = Prepared(
    "ak_key_lookup", "SELECT key_id, tenant_id, key_hash FROM authenticate_api_key($1)"
)
_TENANT_CONTEXT = Prepared("ak_tenant_context", "SELECT set_tenant_context($1)")


class _HeldBackFirst:
    """The connection as the repositories see it: what the unit of work holds back is sent
    before any of their statements, so the database sees everything in order."""

    def __init__(self, conn: AsyncConnection, uow: "SqlUnitOfWork") -> None:
        self._conn, self._uow = conn, uow

    async def execute(self, statement: Executable, parameters: Any = None) -> CursorResult[Any]:
        await self._uow.send_held_back()
        return await self._conn.execute(statement, parameters)

    def call(self, statement: PreparedStatement, params: dict[str, Any]) -> str:
        return self._uow.call(statement, params)

    def defer(self, sql: str) -> None:
        self._uow.defer(sql)

    async def send(self, sql: str) -> AsyncCursor[Any]:
        return await self._uow.send(sql)

    async def fetch_one(self, sql: str) -> Any | None:
        return await (await self._uow.send(sql)).fetchone()

    async def fetch_all(self, sql: str) -> list[Any]:
        return await (await self._uow.send(sql)).fetchall()


class SqlUnitOfWork:
    """Until `authenticate` or `scope_to` opens the transaction, statements run one by one
    with no tenant context: they see no tenant rows and cannot write any (fail closed)."""

    tenants: SqlTenantRepository
    agents: SqlAgentRepository
    api_keys: SqlApiKeyRepository
    providers: SqlProviderRepository
    executions: SqlExecutionRepository
    orphans: SqlOrphanRepository
    idempotency: SqlIdempotencyRepository

    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine
        self._conn: AsyncConnection | None = None
        self._gate: Gate | None = None
        self._driver: PsycopgConnection[Any] | None = None
        self._held_back: list[str] = []  # statements whose answers nobody waits for
        self._session: _HeldBackFirst | None = None
        self._prefetch: tuple[uuid.UUID, bool] | None = None  # (agent id, to run)

    async def __aenter__(self) -> Self:
        conn, self._gate = await check_out(self._engine)
        self._conn = conn
        try:
            raw = await conn.get_raw_connection()
            self._driver = driver = raw.driver_connection
            assert driver is not None
            await ensure_prepared(driver)
        except BaseException:
            await self._release(commit=False)
            raise
        self._held_back, self._prefetch = [], None
        self._session = session = _HeldBackFirst(conn, self)
        self.tenants = SqlTenantRepository(session)
        self.agents = SqlAgentRepository(session, self._prefetch_agent)
        self.api_keys = SqlApiKeyRepository(session)
        self.providers = SqlProviderRepository(session)
        self.executions = SqlExecutionRepository(session, self.agents.read_ahead)
        self.orphans = SqlOrphanRepository(session)
        self.idempotency = SqlIdempotencyRepository(session)
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self._release(commit=False)

    async def _release(self, *, commit: bool) -> None:
        conn, driver, gate = self._conn, self._driver, self._gate
        self._conn = self._driver = self._session = self._gate = None
        self._held_back = []  # never sent: as if rolled back
        if conn is None:
            return
        try:
            if driver is not None and driver.info.transaction_status != TransactionStatus.IDLE:
                await driver.execute(b"COMMIT" if commit else b"ROLLBACK", prepare=False)
        finally:
            await check_in(conn, gate)

    @property
    def connection(self) -> Executor:
        """The transaction's connection, held-back statements first (as repositories get it)."""
        assert self._session is not None, "use the unit of work inside `async with`"
        return self._session

    def _live_driver(self) -> PsycopgConnection[Any]:
        assert self._driver is not None, "use the unit of work inside `async with`"
        return self._driver

    def _open_transaction(self) -> None:
        """Hold back a BEGIN, unless a transaction is open or one is already held back."""
        in_transaction = self._live_driver().info.transaction_status != TransactionStatus.IDLE
        if not in_transaction and not self._held_back:
            self._held_back.append("BEGIN")

    def call(self, statement: PreparedStatement, params: dict[str, Any]) -> str:
        return statement.call(self._live_driver(), params)

    def defer(self, statement: str) -> None:
        """`statement` goes out with the next one, or with the COMMIT. Its errors are raised
        there; it must be one whose answer nobody needs (an INSERT)."""
        self._held_back.append(statement)

    async def send(self, statement: str) -> AsyncCursor[Any]:
        """What is held back, then `statement`, in one round trip; the cursor is on the
        answer to `statement`."""
        held, self._held_back = self._held_back, []
        cursor = self._live_driver().cursor(row_factory=_ROWS)
        with domain_errors():
            await cursor.execute("; ".join([*held, statement]).encode(), prepare=False)
        for _ in held:
            cursor.nextset()
        return cursor

    async def send_held_back(self) -> None:
        if self._held_back:
            held, self._held_back = self._held_back, []
            with domain_errors():
                await self._live_driver().execute("; ".join(held).encode(), prepare=False)

    def _prefetch_agent(self, agent_id: uuid.UUID, to_run: bool) -> None:
        self._prefetch = (agent_id, to_run)

    async def authenticate(self, key_hash: bytes) -> Principal | None:
        """The key lookup sets the transaction's context; a prefetched agent (and, for a
        run, its BYOK providers) is read in the same message, after it, so under that
        context (no context: no row)."""
        self._open_transaction()
        statements = [_KEY_LOOKUP.call_with(bytea_literal(key_hash))]
        prefetch, self._prefetch = self._prefetch, None
        if prefetch is not None:
            statements.append(AGENT_BY_ID.call_with_uuid(prefetch[0]))
            if prefetch[1]:
                statements.append(PROVIDERS_FOR_RUN.call_with_uuid(prefetch[0]))
        cursor = await self.send("; ".join(statements))
        row = await cursor.fetchone()
        if prefetch is not None:
            await self._read_prefetched(cursor, to_run=prefetch[1])
        if row is None or not hmac.compare_digest(bytes(row.key_hash), key_hash):
            return None
        return Principal(key_id=row.key_id, tenant_id=row.tenant_id)

    async def _read_prefetched(self, cursor: AsyncCursor[Any], *, to_run: bool) -> None:
        cursor.nextset()
        agent_row = await cursor.fetchone()
        agent = None if agent_row is None else agent_from(agent_row._asdict())
        if agent is not None:
            self.agents.read_ahead(agent)
        if to_run:
            cursor.nextset()
            providers = await cursor.fetchall()
            if agent is not None and agent.use_byok:
                self.providers.read_ahead(agent.tenant_id, providers)

    async def scope_to(self, principal: Principal) -> None:
        """Held back: the context goes out with the unit of work's first statement."""
        self._open_transaction()
        if principal.tenant_id is None:
            self.defer("SELECT set_operator_context()")
        else:
            self.defer(_TENANT_CONTEXT.call_with_uuid(principal.tenant_id))

    async def commit(self) -> None:
        """Commit (with whatever is held back, in the same round trip) and give the
        connection back at once: a committed unit of work is over, so nothing (a slow LLM
        call, a response being written) holds a pooled connection."""
        assert self._conn is not None, "the unit of work is already committed or closed"
        held = self._held_back
        if held[:1] == ["BEGIN"]:
            # Nothing of the transaction went out yet: its statements go as one message
            # without BEGIN and COMMIT, which PostgreSQL runs as one (implicit)
            # transaction, all or nothing, the context included; two answers fewer.
            self._held_back = held[1:-1]
            if len(held) > 1:
                await self.send(held[-1])
        elif held:
            await self.send("COMMIT")
        await self._release(commit=True)
