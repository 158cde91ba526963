"""The SQL unit of work: one pooled connection, one transaction, the caller's context in it.

Round trips matter more than anything else here (see bench/README.md). The pool runs in
autocommit mode so that psycopg does not send its own BEGIN as a separate round trip; the
unit of work opens the transaction itself. What needs no answer of its own is held back
and sent with the next statement, in one pipeline (adapters/sqlalchemy/pipeline.py): the
BEGIN, the tenant context of `scope_to`, and deferred INSERTs (sent with the next
statement or the COMMIT). Every value goes as a bound parameter; the statements of every
request are prepared by psycopg, protocol-level (docs/database.md).
"""

import hmac
import uuid
from types import TracebackType
from typing import Any, Self

from psycopg import AsyncConnection as PsycopgConnection
from psycopg import AsyncCursor
from psycopg.pq import TransactionStatus
from sqlalchemy.engine import CursorResult
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine
from sqlalchemy.sql.expression import Executable

from adapters.sqlalchemy.checkout import Gate, check_in, check_out, driver_of
from adapters.sqlalchemy.deliveries import SqlDeliveryRepository
from adapters.sqlalchemy.executions import SqlExecutionRepository
from adapters.sqlalchemy.executor import Executor
from adapters.sqlalchemy.idempotency import SqlIdempotencyRepository
from adapters.sqlalchemy.mcp_servers import SqlMcpServerRepository
from adapters.sqlalchemy.orphans import SqlOrphanRepository
from adapters.sqlalchemy.pipeline import send_batch
from adapters.sqlalchemy.providers import SqlProviderRepository
from adapters.sqlalchemy.repositories import (
    SqlAgentRepository,
    SqlApiKeyRepository,
    SqlTenantRepository,
    agent_from,
    prefetch_calls,
)
from adapters.sqlalchemy.statements import Bound, Statement
from adapters.sqlalchemy.ticket_systems import SqlTicketSystemRepository
from adapters.sqlalchemy.webhook_receipts import SqlWebhookReceiptRepository
from adapters.sqlalchemy.webhook_secrets import SqlWebhookSecretRepository
from domain.principal import Principal

_BEGIN = Statement.text("BEGIN", reads_only=True, prepare=False).bind()
_KEY_LOOKUP = Statement.text(
    "SELECT key_id, tenant_id, key_hash FROM authenticate_api_key(%(key_hash)s)",
    ("key_hash",),
    reads_only=True,
)
_TENANT_CONTEXT = Statement.text(
    "SELECT set_tenant_context(%(tenant_id)s)", ("tenant_id",), reads_only=True
)
_OPERATOR_CONTEXT = Statement.text("SELECT set_operator_context()", reads_only=True).bind()
_COMMIT = Statement.text("COMMIT", reads_only=True, prepare=False).bind()


def _reads_only(result: CursorResult[Any]) -> bool:
    """A plain SELECT (no WITH, where a data-modifying statement could hide) writes
    nothing: our schema has no function that writes a table when selected."""
    return result.context.statement.lstrip()[:6].upper() == "SELECT"


class _HeldBackFirst:
    """The connection as the repositories see it: what the unit of work holds back is sent
    before any of their statements, so the database sees everything in order."""

    def __init__(self, conn: AsyncConnection, uow: "SqlUnitOfWork") -> None:
        self._conn, self._uow = conn, uow

    async def execute(self, statement: Executable, parameters: Any = None) -> CursorResult[Any]:
        await self._uow.send_held_back()
        result = await self._conn.execute(statement, parameters)
        if not _reads_only(result):
            self._uow.wrote = True
        return result

    def defer(self, call: Bound) -> None:
        self._uow.defer(call)

    async def send(self, *calls: Bound) -> list[AsyncCursor[Any]]:
        return await self._uow.send(*calls)

    async def fetch_one(self, call: Bound) -> Any | None:
        [cursor] = await self._uow.send(call)
        return await cursor.fetchone()

    async def fetch_all(self, call: Bound) -> list[Any]:
        [cursor] = await self._uow.send(call)
        return await cursor.fetchall()


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
    webhook_secrets: SqlWebhookSecretRepository
    ticket_systems: SqlTicketSystemRepository
    webhook_receipts: SqlWebhookReceiptRepository
    deliveries: SqlDeliveryRepository
    mcp_servers: SqlMcpServerRepository

    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine
        self._conn: AsyncConnection | None = None
        self._gate: Gate | None = None
        self._driver: PsycopgConnection[Any] | None = None
        self._held_back: list[Bound] = []  # statements whose answers nobody waits for
        self._session: _HeldBackFirst | None = None
        self._prefetch: tuple[uuid.UUID | str, bool] | None = None  # (agent id/name, to run)
        self.wrote = False  # a statement that may write went out in this transaction

    async def __aenter__(self) -> Self:
        conn, self._gate = await check_out(self._engine)
        self._conn = conn
        try:
            self._driver = await driver_of(conn)
            assert self._driver is not None
        except BaseException:
            await self._release(commit=False)
            raise
        self._held_back, self._prefetch, self.wrote = [], None, False
        self._session = session = _HeldBackFirst(conn, self)
        self.tenants = SqlTenantRepository(session)
        self.agents = SqlAgentRepository(session, self._prefetch_agent)
        self.api_keys = SqlApiKeyRepository(session)
        self.providers = SqlProviderRepository(session)
        self.executions = SqlExecutionRepository(session, self.agents.read_ahead)
        self.orphans = SqlOrphanRepository(session)
        self.idempotency = SqlIdempotencyRepository(session)
        self.webhook_secrets = SqlWebhookSecretRepository(session)
        self.ticket_systems = SqlTicketSystemRepository(session)
        self.webhook_receipts = SqlWebhookReceiptRepository(session)
        self.deliveries = SqlDeliveryRepository(session)
        self.mcp_servers = SqlMcpServerRepository(session)
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
        # The repositories point back here (through the session, `_prefetch_agent`):
        # dropped, they and this unit of work die by reference counting. Left as a cycle,
        # every request's ~100 objects waited for the cyclic collector, whose full passes
        # over the objects of 100 open streams took 30-60 ms each (docs/benchmarks.md).
        for name in _REPOSITORIES:
            self.__dict__.pop(name, None)
        self._held_back = []  # never sent: as if rolled back
        if conn is None:
            return
        try:
            status = None if driver is None else driver.info.transaction_status
            if driver is None or status == TransactionStatus.IDLE:
                pass
            elif commit or (status == TransactionStatus.INTRANS and not self.wrote):
                # A transaction that only read ends the same either way; a ROLLBACK would
                # make psycopg drop every prepared statement of the connection (its
                # cache is cleared and a DEALLOCATE ALL sent: docs/database.md).
                await driver.commit()
            else:
                await driver.rollback()
        finally:
            # Not idle: the commit or rollback failed (a broken connection). The pool,
            # which resets nothing itself (adapters/sqlalchemy/engine.py), must not hand
            # it out again.
            idle = driver is None or driver.info.transaction_status == TransactionStatus.IDLE
            await check_in(conn, gate, reusable=idle)

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
            self._held_back.append(_BEGIN)

    def defer(self, call: Bound) -> None:
        """`call` goes out with the next statement, or with the COMMIT. Its errors are raised
        there; it must be one whose answer nobody needs (an INSERT)."""
        self._held_back.append(call)

    async def send(self, *calls: Bound) -> list[AsyncCursor[Any]]:
        """What is held back, then `calls`, in one round trip; a cursor on the answer to
        each of `calls`."""
        held, self._held_back = self._held_back, []
        batch = [*held, *calls]
        if not batch:
            return []
        if any(not call.statement.reads_only for call in batch):
            self.wrote = True
        cursors = await send_batch(self._live_driver(), batch)
        return cursors[len(held) :]

    async def send_held_back(self) -> None:
        if self._held_back:
            await self.send()

    def _prefetch_agent(self, agent: uuid.UUID | str, to_run: bool) -> None:
        self._prefetch = (agent, to_run)

    async def authenticate(self, key_hash: bytes) -> Principal | None:
        """The key lookup sets the transaction's context; a prefetched agent (and, for a
        run, its BYOK providers) is read in the same batch, after it, so under that
        context (no context: no row).

        With a prefetch, and nothing held back, the batch goes without BEGIN: one implicit
        transaction of reads, ended at its Sync, so a request that needs nothing more (GET
        an agent, a 404, a 401) waits once and sends no COMMIT. Its context ends with it;
        whatever the request sends next goes in a transaction of its own, which starts with
        the same context again (`scope_to`). Under READ COMMITTED that is what it would see
        in one transaction anyway; the batch took no locks."""
        prefetch = self._prefetch
        alone = prefetch is not None and not self._held_back
        if not alone:
            self._open_transaction()
        calls = [_KEY_LOOKUP.bind({"key_hash": key_hash})]
        self._prefetch = None
        if prefetch is not None:
            calls += prefetch_calls(*prefetch)
        cursors = await self.send(*calls)
        row = await cursors[0].fetchone()
        if prefetch is not None:
            await self._read_prefetched(cursors[1:])
        if row is None or not hmac.compare_digest(bytes(row.key_hash), key_hash):
            return None
        principal = Principal(key_id=row.key_id, tenant_id=row.tenant_id)
        if alone:
            await self.scope_to(principal)  # held back: sent only if something follows
        return principal

    async def _read_prefetched(self, cursors: list[AsyncCursor[Any]]) -> None:
        agent_row = await cursors[0].fetchone()
        agent = None if agent_row is None else agent_from(agent_row._asdict())
        if agent is not None:
            self.agents.read_ahead(agent)
        if len(cursors) > 1:
            providers = await cursors[1].fetchall()
            if agent is not None and agent.use_byok:
                self.providers.read_ahead(agent.tenant_id, providers)

    async def scope_to(self, principal: Principal) -> None:
        """Held back: the context goes out with the unit of work's first statement."""
        self._open_transaction()
        if principal.tenant_id is None:
            self.defer(_OPERATOR_CONTEXT)
        else:
            self.defer(_TENANT_CONTEXT.bind({"tenant_id": principal.tenant_id}))

    async def commit(self) -> None:
        """Commit (with whatever is held back, in the same round trip) and give the
        connection back at once: a committed unit of work is over, so nothing (a slow LLM
        call, a response being written) holds a pooled connection."""
        assert self._conn is not None, "the unit of work is already committed or closed"
        held = self._held_back
        if held[:1] == [_BEGIN]:
            # Nothing of the transaction went out yet: its statements go as one batch
            # without BEGIN and COMMIT, which PostgreSQL runs as one implicit transaction
            # (committed at the batch's Sync), all or nothing, the context included.
            self._held_back = held[1:]
            if self._held_back:
                await self.send()
        elif held:
            self._held_back.append(_COMMIT)
            await self.send()
        await self._release(commit=True)


_REPOSITORIES = tuple(SqlUnitOfWork.__annotations__)  # the repository attributes above
