import hmac
from types import TracebackType
from typing import Self

from sqlalchemy import LargeBinary, Uuid, bindparam, text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, AsyncTransaction

from adapters.sqlalchemy.executions import SqlExecutionRepository
from adapters.sqlalchemy.orphans import SqlOrphanRepository
from adapters.sqlalchemy.providers import SqlProviderRepository
from adapters.sqlalchemy.repositories import (
    SqlAgentRepository,
    SqlApiKeyRepository,
    SqlTenantRepository,
)
from domain.principal import Principal

# One round trip: resolve the key and set the tenant (or operator) context, see 0001.
_AUTHENTICATE = text(
    "SELECT key_id, tenant_id, key_hash FROM authenticate_api_key(:key_hash)"
).bindparams(bindparam("key_hash", type_=LargeBinary))
_SET_TENANT = text("SELECT set_tenant_context(:tenant_id)").bindparams(
    bindparam("tenant_id", type_=Uuid)
)
_SET_OPERATOR = text("SELECT set_operator_context()")


class SqlUnitOfWork:
    """One pooled connection and one transaction; the tenant context lives in it."""

    tenants: SqlTenantRepository
    agents: SqlAgentRepository
    api_keys: SqlApiKeyRepository
    providers: SqlProviderRepository
    executions: SqlExecutionRepository
    orphans: SqlOrphanRepository

    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine
        self._conn: AsyncConnection | None = None
        self._tx: AsyncTransaction | None = None

    async def __aenter__(self) -> Self:
        conn = await self._engine.connect()
        self._conn, self._tx = conn, await conn.begin()
        self.tenants = SqlTenantRepository(conn)
        self.agents = SqlAgentRepository(conn)
        self.api_keys = SqlApiKeyRepository(conn)
        self.providers = SqlProviderRepository(conn)
        self.executions = SqlExecutionRepository(conn)
        self.orphans = SqlOrphanRepository(conn)
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self._release()

    async def _release(self) -> None:
        conn, tx = self._conn, self._tx
        self._conn = self._tx = None
        if conn is None:
            return
        try:
            if tx is not None and tx.is_active:
                await tx.rollback()
        finally:
            await conn.close()

    @property
    def connection(self) -> AsyncConnection:
        assert self._conn is not None, "use the unit of work inside `async with`"
        return self._conn

    async def authenticate(self, key_hash: bytes) -> Principal | None:
        row = (await self.connection.execute(_AUTHENTICATE, {"key_hash": key_hash})).first()
        if row is None or not hmac.compare_digest(bytes(row.key_hash), key_hash):
            return None
        return Principal(key_id=row.key_id, tenant_id=row.tenant_id)

    async def scope_to(self, principal: Principal) -> None:
        if principal.tenant_id is None:
            await self.connection.execute(_SET_OPERATOR)
        else:
            await self.connection.execute(_SET_TENANT, {"tenant_id": principal.tenant_id})

    async def commit(self) -> None:
        """Commit and give the connection back at once: a committed unit of work is over,
        so nothing (a slow LLM call, a response being written) holds a pooled connection."""
        assert self._tx is not None, "the unit of work is already committed or closed"
        await self._tx.commit()
        await self._release()
