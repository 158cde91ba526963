"""SQL repositories over one connection and transaction, owned by SqlUnitOfWork.

Statements are built once at import: those of every request are compiled for the unit
of work's batches (adapters/sqlalchemy/statements.py), the rest go through SQLAlchemy's
compiled cache. Rows are mapped to domain entities here and nowhere else.
"""

import uuid
from collections.abc import Callable
from typing import Any

from sqlalchemy import bindparam, delete, func, insert, select, update
from sqlalchemy.exc import IntegrityError

from adapters.sqlalchemy.errors import constraint_name, domain_errors
from adapters.sqlalchemy.executor import Executor
from adapters.sqlalchemy.providers import PROVIDERS_FOR_NAMED_RUN, PROVIDERS_FOR_RUN
from adapters.sqlalchemy.statements import Bound, Statement
from adapters.sqlalchemy.tables import agents, api_key_credentials, api_keys, tenants
from application.ports.page import Page
from domain.agent import Agent, AgentStatus
from domain.api_key import ApiKey
from domain.errors import ProvidersRemain
from domain.tenant import Tenant

_TENANT_GET = select(tenants).where(tenants.c.id == bindparam("id"))
_TENANT_LIST = (
    select(tenants)
    .order_by(tenants.c.created_at, tenants.c.id)
    .limit(bindparam("limit"))
    .offset(bindparam("offset"))
)
AGENT_BY_ID = Statement(select(agents).where(agents.c.id == bindparam("id")), reads_only=True)
# One index lookup: uq_agents_tenant_id_name (migrations/versions/0002_agents.py).
AGENT_BY_NAME = Statement(
    select(agents).where(
        agents.c.tenant_id == bindparam("tenant_id"), agents.c.name == bindparam("name")
    ),
    reads_only=True,
)
# By name before the caller's tenant is known: the key lookup's context, in the same batch,
# names it (app_current_tenant(): NULL without one, so no row); the same index lookup.
AGENT_NAMED_IN_CONTEXT = Statement(
    select(agents).where(
        agents.c.tenant_id == func.app_current_tenant(), agents.c.name == bindparam("name")
    ),
    reads_only=True,
)
_AGENT_INSERT = Statement(insert(agents), columns=tuple(c.name for c in agents.c))
_AGENT_LIST = (
    select(agents)
    .order_by(agents.c.created_at, agents.c.id)
    .limit(bindparam("limit"))
    .offset(bindparam("offset"))
)
_FOR_TENANT = agents.c.tenant_id == bindparam("tenant_id")
_IN_STATUS = agents.c.status == bindparam("status")
# By (a tenant given, a status given).
_AGENT_LISTS = {
    (False, False): _AGENT_LIST,
    (True, False): _AGENT_LIST.where(_FOR_TENANT),
    (False, True): _AGENT_LIST.where(_IN_STATUS),
    (True, True): _AGENT_LIST.where(_FOR_TENANT, _IN_STATUS),
}
_KEY_COLUMNS = (
    api_keys.c.id,
    api_keys.c.tenant_id,
    api_keys.c.name,
    api_keys.c.prefix,
    api_keys.c.created_at,
)


def _tenant_values(tenant: Tenant) -> dict[str, Any]:
    return {
        "id": tenant.id,
        "name": tenant.name,
        "admin_email": tenant.admin_email,
        "ticket_agent_id": tenant.ticket_agent_id,
        "created_at": tenant.created_at,
        "updated_at": tenant.updated_at,
    }


def _agent_values(agent: Agent) -> dict[str, Any]:
    return {
        "id": agent.id,
        "tenant_id": agent.tenant_id,
        "name": agent.name,
        "system_prompt": agent.system_prompt,
        "model": agent.model,
        "temperature": agent.temperature,
        "max_tokens": agent.max_tokens,
        "use_byok": agent.use_byok,
        "provider_id": agent.provider_id,
        "status": agent.status.value,
        "created_at": agent.created_at,
        "updated_at": agent.updated_at,
        "mcp_server_ids": list(agent.mcp_server_ids),
    }


def agent_from(values: dict[str, Any]) -> Agent:
    """An agent from its row's columns (a SQLAlchemy row's `_mapping`, psycopg's `_asdict`)."""
    values["status"] = AgentStatus(values["status"])
    values["mcp_server_ids"] = tuple(values.get("mcp_server_ids") or ())
    return Agent(**values)


def _agent(row: Any) -> Agent:
    return agent_from(dict(row._mapping))


def _key(row: Any) -> ApiKey:
    return ApiKey(key_hash=b"", **row._mapping)


class SqlTenantRepository:
    def __init__(self, conn: Executor) -> None:
        self._conn = conn

    async def add(self, tenant: Tenant) -> None:
        with domain_errors():
            await self._conn.execute(insert(tenants), _tenant_values(tenant))

    async def get(self, tenant_id: uuid.UUID) -> Tenant | None:
        row = (await self._conn.execute(_TENANT_GET, {"id": tenant_id})).first()
        return None if row is None else Tenant(**row._mapping)

    async def list(self, page: Page) -> list[Tenant]:
        params = {"limit": page.limit, "offset": page.offset}
        return [Tenant(**row._mapping) for row in await self._conn.execute(_TENANT_LIST, params)]

    async def update(self, tenant: Tenant) -> None:
        values = _tenant_values(tenant)
        del values["id"], values["created_at"]
        with domain_errors():
            await self._conn.execute(update(tenants).where(tenants.c.id == tenant.id), values)

    async def delete(self, tenant_id: uuid.UUID) -> bool:
        try:
            result = await self._conn.execute(delete(tenants).where(tenants.c.id == tenant_id))
        except IntegrityError as exc:
            if constraint_name(exc) == "fk_llm_providers_tenant_id":  # ON DELETE RESTRICT
                raise ProvidersRemain() from exc
            raise
        return result.rowcount > 0


def prefetch_calls(agent: uuid.UUID | str, to_run: bool) -> list[Bound]:
    """What the unit of work reads with the key lookup for `AgentRepository.prefetch`: the
    agent by id, or by name in the key's tenant; for a run, its BYOK providers."""
    params: dict[str, uuid.UUID | str]
    if isinstance(agent, str):
        read, providers, params = AGENT_NAMED_IN_CONTEXT, PROVIDERS_FOR_NAMED_RUN, {"name": agent}
    else:
        read, providers, params = AGENT_BY_ID, PROVIDERS_FOR_RUN, {"id": agent}
    return [read.bind(params), providers.bind(params)] if to_run else [read.bind(params)]


def _may_name_an_agent(name: str) -> bool:
    """No text value holds a NUL (and psycopg would refuse to send one)."""
    return "\x00" not in name


class SqlAgentRepository:
    def __init__(self, conn: Executor, prefetch: Callable[[uuid.UUID | str, bool], None]) -> None:
        self._conn = conn
        self._read_ahead: dict[uuid.UUID, Agent] = {}
        self._prefetch = prefetch  # the unit of work reads it with its key lookup

    def prefetch(self, agent: uuid.UUID | str, *, to_run: bool = False) -> None:
        if not isinstance(agent, str) or _may_name_an_agent(agent):
            self._prefetch(agent, to_run)

    def read_ahead(self, agent: Agent) -> None:
        """An agent another statement of this unit of work brought along (a worker's claim
        reads the agent it runs): the next `get` of it costs no round trip. Same
        transaction, so it is what `get` would have read."""
        self._read_ahead[agent.id] = agent

    async def add(self, agent: Agent) -> None:
        # Its constraint errors come with the next statement or the commit.
        self._conn.defer(_AGENT_INSERT.bind(_agent_values(agent)))

    async def get(self, agent_id: uuid.UUID) -> Agent | None:
        read = self._read_ahead.pop(agent_id, None)
        if read is not None:
            return read
        row = await self._conn.fetch_one(AGENT_BY_ID.bind({"id": agent_id}))
        return None if row is None else agent_from(row._asdict())

    async def by_name(self, tenant_id: uuid.UUID, name: str) -> Agent | None:
        if not _may_name_an_agent(name):
            return None
        read = next(
            (a for a in self._read_ahead.values() if (a.tenant_id, a.name) == (tenant_id, name)),
            None,
        )
        if read is not None:
            return self._read_ahead.pop(read.id)
        call = AGENT_BY_NAME.bind({"tenant_id": tenant_id, "name": name})
        row = await self._conn.fetch_one(call)
        return None if row is None else agent_from(row._asdict())

    async def list(
        self, tenant_id: uuid.UUID | None, page: Page, *, status: AgentStatus | None = None
    ) -> list[Agent]:
        params: dict[str, Any] = {"limit": page.limit, "offset": page.offset}
        if tenant_id is not None:
            params["tenant_id"] = tenant_id
        if status is not None:
            params["status"] = status.value
        statement = _AGENT_LISTS[tenant_id is not None, status is not None]
        return [_agent(row) for row in await self._conn.execute(statement, params)]

    async def update(self, agent: Agent) -> None:
        values = _agent_values(agent)
        del values["id"], values["tenant_id"], values["created_at"]
        with domain_errors():
            await self._conn.execute(update(agents).where(agents.c.id == agent.id), values)

    async def delete(self, agent_id: uuid.UUID) -> bool:
        result = await self._conn.execute(delete(agents).where(agents.c.id == agent_id))
        return result.rowcount > 0


class SqlApiKeyRepository:
    def __init__(self, conn: Executor) -> None:
        self._conn = conn

    async def add(self, key: ApiKey) -> None:
        with domain_errors():
            await self._conn.execute(
                insert(api_keys),
                {
                    "id": key.id,
                    "tenant_id": key.tenant_id,
                    "name": key.name,
                    "prefix": key.prefix,
                    "created_at": key.created_at,
                },
            )
            await self._conn.execute(
                insert(api_key_credentials),
                {"key_id": key.id, "key_hash": key.key_hash, "tenant_id": key.tenant_id},
            )

    async def list_for_tenant(self, tenant_id: uuid.UUID) -> list[ApiKey]:
        statement = (
            select(*_KEY_COLUMNS)
            .where(api_keys.c.tenant_id == tenant_id)
            .order_by(api_keys.c.created_at, api_keys.c.id)
        )
        return [_key(row) for row in await self._conn.execute(statement)]

    async def get(self, key_id: uuid.UUID) -> ApiKey | None:
        statement = select(*_KEY_COLUMNS).where(api_keys.c.id == key_id)
        row = (await self._conn.execute(statement)).first()
        return None if row is None else _key(row)

    async def delete(self, key_id: uuid.UUID) -> bool:
        # The credential row goes with it (ON DELETE CASCADE): revocation is immediate.
        result = await self._conn.execute(delete(api_keys).where(api_keys.c.id == key_id))
        return result.rowcount > 0

    async def count_operator_keys(self) -> int:
        statement = select(func.count()).select_from(api_keys).where(api_keys.c.tenant_id.is_(None))
        return int((await self._conn.execute(statement)).scalar_one())
