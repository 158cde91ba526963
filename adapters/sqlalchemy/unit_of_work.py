"""The SQL unit of work: one pooled connection, one transaction, the caller's context in it.

Round trips matter more than anything else here (see bench/README.md). The pool runs in
autocommit mode so that psycopg does not send its own BEGIN as a separate round trip;
the unit of work opens the transaction itself, in the same message as its first
statement: `BEGIN; SELECT ... FROM authenticate_api_key(...)` (or set_tenant_context).
Those two statements go as one simple-protocol query, so the values in them are literals
built from bytes and UUIDs only (hex digits and dashes), never from caller text.
"""

import hmac
import uuid
from types import TracebackType
from typing import Any, Self

from psycopg import AsyncConnection as PsycopgConnection
from psycopg.pq import TransactionStatus
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from adapters.sqlalchemy.executions import SqlExecutionRepository
from adapters.sqlalchemy.idempotency import SqlIdempotencyRepository
from adapters.sqlalchemy.orphans import SqlOrphanRepository
from adapters.sqlalchemy.providers import SqlProviderRepository
from adapters.sqlalchemy.repositories import (
    SqlAgentRepository,
    SqlApiKeyRepository,
    SqlTenantRepository,
)
from domain.principal import Principal


def _bytea(value: bytes) -> str:
    return f"'\\x{value.hex()}'::bytea"


def _uuid(value: uuid.UUID) -> str:
    return f"'{uuid.UUID(str(value))}'::uuid"


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
        self._driver: PsycopgConnection[Any] | None = None

    async def __aenter__(self) -> Self:
        conn = await self._engine.connect()
        self._conn = conn
        raw = await conn.get_raw_connection()
        self._driver = raw.driver_connection
        self.tenants = SqlTenantRepository(conn)
        self.agents = SqlAgentRepository(conn)
        self.api_keys = SqlApiKeyRepository(conn)
        self.providers = SqlProviderRepository(conn)
        self.executions = SqlExecutionRepository(conn)
        self.orphans = SqlOrphanRepository(conn)
        self.idempotency = SqlIdempotencyRepository(conn)
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self._release(commit=False)

    async def _release(self, *, commit: bool) -> None:
        conn, driver = self._conn, self._driver
        self._conn = self._driver = None
        if conn is None or driver is None:
            return
        try:
            if driver.info.transaction_status != TransactionStatus.IDLE:
                await driver.execute(b"COMMIT" if commit else b"ROLLBACK")
        finally:
            await conn.close()

    @property
    def connection(self) -> AsyncConnection:
        assert self._conn is not None, "use the unit of work inside `async with`"
        return self._conn

    async def _begin_with(self, statement: str) -> Any:
        """`statement` in the transaction, opening it in the same round trip if needed;
        returns the statement's first row."""
        driver = self._driver
        assert driver is not None, "use the unit of work inside `async with`"
        if driver.info.transaction_status != TransactionStatus.IDLE:
            return await (await driver.execute(statement.encode())).fetchone()
        cursor = await driver.execute(f"BEGIN; {statement}".encode())
        cursor.nextset()
        return await cursor.fetchone()

    async def authenticate(self, key_hash: bytes) -> Principal | None:
        row = await self._begin_with(
            f"SELECT key_id, tenant_id, key_hash FROM authenticate_api_key({_bytea(key_hash)})"  # noqa: S608 (hex digits only)
        )
        if row is None or not hmac.compare_digest(bytes(row[2]), key_hash):
            return None
        return Principal(key_id=row[0], tenant_id=row[1])

    async def scope_to(self, principal: Principal) -> None:
        if principal.tenant_id is None:
            await self._begin_with("SELECT set_operator_context()")
        else:
            await self._begin_with(f"SELECT set_tenant_context({_uuid(principal.tenant_id)})")

    async def commit(self) -> None:
        """Commit and give the connection back at once: a committed unit of work is over,
        so nothing (a slow LLM call, a response being written) holds a pooled connection."""
        assert self._conn is not None, "the unit of work is already committed or closed"
        await self._release(commit=True)
