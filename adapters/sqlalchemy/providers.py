import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, bindparam, delete, func, insert, select, update

from adapters.sqlalchemy.errors import domain_errors
from adapters.sqlalchemy.executor import Executor
from adapters.sqlalchemy.statements import Statement
from adapters.sqlalchemy.tables import agents
from adapters.sqlalchemy.tables import llm_providers as t
from application.ports.provider_repository import ProviderSecrets
from application.ports.secret_box import SealedSecret
from domain.errors import NotFound
from domain.provider import LlmProvider, ProviderStatus

_ENTITY_COLUMNS = (
    "id",
    "tenant_id",
    "provider_name",
    "model",
    "key_hint",
    "created_at",
    "updated_at",
    "api_base",
    "max_budget",
    "status",
    "deployment_id",
    "virtual_key_id",
)


def _entity_values(provider: LlmProvider) -> dict[str, Any]:
    values = {name: getattr(provider, name) for name in _ENTITY_COLUMNS}
    values["status"] = provider.status.value
    return values


def _secret_values(secrets: ProviderSecrets) -> dict[str, Any]:
    return {
        "api_key_kid": secrets.api_key.key_id,
        "api_key_sealed": secrets.api_key.ciphertext,
        "virtual_key_kid": secrets.virtual_key.key_id,
        "virtual_key_sealed": secrets.virtual_key.ciphertext,
    }


def _provider(row: Any) -> LlmProvider:
    return LlmProvider(**{name: getattr(row, name) for name in _ENTITY_COLUMNS})


def _secrets(row: Any) -> ProviderSecrets:
    return ProviderSecrets(
        api_key=SealedSecret(row.api_key_kid, bytes(row.api_key_sealed)),
        virtual_key=SealedSecret(row.virtual_key_kid, bytes(row.virtual_key_sealed)),
    )


_LIST = select(t).order_by(t.c.created_at, t.c.id)
_LIST_ALL = Statement(_LIST, reads_only=True)
_LIST_OF_TENANT = Statement(_LIST.where(t.c.tenant_id == bindparam("tenant_id")), reads_only=True)


def _providers_for_run(*agent: ColumnElement[bool]) -> Statement:
    """What a run of the agent reads: its tenant's providers if it uses BYOK, else no row."""
    tenant = select(agents.c.tenant_id).where(*agent, agents.c.use_byok).scalar_subquery()
    return Statement(_LIST.where(t.c.tenant_id == tenant), reads_only=True)


PROVIDERS_FOR_RUN = _providers_for_run(agents.c.id == bindparam("id"))  # AGENT_BY_ID's
# By the agent's name, in the tenant of the key lookup's context (AGENT_NAMED_IN_CONTEXT).
PROVIDERS_FOR_NAMED_RUN = _providers_for_run(
    agents.c.tenant_id == func.app_current_tenant(), agents.c.name == bindparam("name")
)


class SqlProviderRepository:
    def __init__(self, conn: Executor) -> None:
        self._conn = conn
        # Rows read in this unit of work carry their sealed secrets; keep them so that
        # `secrets()` right after `list()`/`get()` (every BYOK run) costs no round trip.
        self._sealed: dict[uuid.UUID, ProviderSecrets] = {}
        self._read_ahead: dict[uuid.UUID, list[LlmProvider]] = {}

    def read_ahead(self, tenant_id: uuid.UUID, rows: list[Any]) -> None:
        """A tenant's providers (`PROVIDERS_FOR_RUN`'s rows) that another statement of this
        unit of work brought along: the next `list` of that tenant costs no round trip."""
        self._read_ahead[tenant_id] = [self._seen(row) for row in rows]

    def _seen(self, row: Any) -> LlmProvider:
        self._sealed[row.id] = _secrets(row)
        return _provider(row)

    async def add(self, provider: LlmProvider, secrets: ProviderSecrets) -> None:
        with domain_errors():
            await self._conn.execute(
                insert(t), {**_entity_values(provider), **_secret_values(secrets)}
            )

    async def _row(self, provider_id: uuid.UUID) -> Any:
        return (await self._conn.execute(select(t).where(t.c.id == provider_id))).first()

    async def get(self, provider_id: uuid.UUID) -> LlmProvider | None:
        row = await self._row(provider_id)
        return None if row is None else self._seen(row)

    async def secrets(self, provider_id: uuid.UUID) -> ProviderSecrets | None:
        if provider_id in self._sealed:
            return self._sealed[provider_id]
        row = await self._row(provider_id)
        return None if row is None else _secrets(row)

    async def list_sealed(
        self, after: uuid.UUID | None, limit: int
    ) -> list[tuple[LlmProvider, ProviderSecrets]]:
        statement = select(t).order_by(t.c.id).limit(limit)
        if after is not None:
            statement = statement.where(t.c.id > after)
        return [(_provider(r), _secrets(r)) for r in await self._conn.execute(statement)]

    async def list(self, tenant_id: uuid.UUID | None) -> list[LlmProvider]:
        read = self._read_ahead.pop(tenant_id, None) if tenant_id is not None else None
        if read is not None:
            return read
        if tenant_id is None:
            rows = await self._conn.fetch_all(_LIST_ALL.bind())
        else:  # a worker's BYOK run
            rows = await self._conn.fetch_all(_LIST_OF_TENANT.bind({"tenant_id": tenant_id}))
        return [self._seen(row) for row in rows]

    async def update(self, provider: LlmProvider, secrets: ProviderSecrets | None = None) -> None:
        values = _entity_values(provider)
        del values["id"], values["tenant_id"], values["created_at"]
        self._sealed.pop(provider.id, None)
        if secrets is not None:
            values.update(_secret_values(secrets))
        with domain_errors():
            result = await self._conn.execute(update(t).where(t.c.id == provider.id), values)
        if result.rowcount == 0:  # deleted meanwhile, or outside the scope
            raise NotFound("Provider")

    async def rebind(
        self, provider: LlmProvider, secrets: ProviderSecrets, held_key_id: str
    ) -> bool:
        values = {**_entity_values(provider), **_secret_values(secrets)}
        del values["id"], values["tenant_id"], values["created_at"]
        self._sealed.pop(provider.id, None)
        # The condition is checked on the latest committed row, and the row stays locked
        # until commit: a concurrent delete or rotation either went first or waits.
        statement = update(t).where(
            t.c.id == provider.id,
            t.c.status == ProviderStatus.ACTIVE.value,
            t.c.virtual_key_id == held_key_id,
        )
        with domain_errors():
            result = await self._conn.execute(statement, values)
        return bool(result.rowcount)

    async def mark_revoking(self, provider_id: uuid.UUID, held_key_id: str, at: datetime) -> bool:
        # As in `rebind`: checked on the latest committed row, which stays locked until
        # commit, so a rotation either moved the key first (we miss) or waits and then
        # finds the row `revoking` (it misses). Only the status is written, never columns
        # read earlier: they could pair an old key id with a newer sealed key.
        statement = update(t).where(t.c.id == provider_id, t.c.virtual_key_id == held_key_id)
        values = {"status": ProviderStatus.REVOKING.value, "updated_at": at}
        result = await self._conn.execute(statement, values)
        return bool(result.rowcount)

    async def replace_secrets(
        self, provider_id: uuid.UUID, old: ProviderSecrets, new: ProviderSecrets
    ) -> bool:
        self._sealed.pop(provider_id, None)
        statement = update(t).where(
            t.c.id == provider_id,
            t.c.api_key_kid == old.api_key.key_id,
            t.c.api_key_sealed == old.api_key.ciphertext,
            t.c.virtual_key_kid == old.virtual_key.key_id,
            t.c.virtual_key_sealed == old.virtual_key.ciphertext,
        )
        result = await self._conn.execute(statement, _secret_values(new))
        return bool(result.rowcount)

    async def delete(self, provider_id: uuid.UUID) -> bool:
        self._sealed.pop(provider_id, None)
        result = await self._conn.execute(delete(t).where(t.c.id == provider_id))
        return result.rowcount > 0
