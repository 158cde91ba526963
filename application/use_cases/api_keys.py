"""Issuing, listing and revoking API keys. The clear token is returned once, never stored."""

import uuid
from dataclasses import dataclass
from datetime import datetime

from application.ports.clock import Clock
from application.ports.token_generator import TokenGenerator
from application.ports.unit_of_work import UnitOfWork
from application.use_cases.tenants_access import require_tenant
from domain.api_key import OPERATOR_TOKEN_PREFIX, TENANT_TOKEN_PREFIX, ApiKey
from domain.errors import NotFound
from domain.ids import new_id
from domain.principal import CONSOLE_OPERATOR, Principal


@dataclass(frozen=True, slots=True)
class IssuedKey:
    key: ApiKey
    token: str


def new_tenant_key(
    tenant_id: uuid.UUID, name: str, now: datetime, tokens: TokenGenerator
) -> tuple[ApiKey, str]:
    token = tokens.new_token(TENANT_TOKEN_PREFIX)
    return ApiKey.from_token(
        id=new_id(), tenant_id=tenant_id, name=name, token=token, now=now
    ), token


class IssueTenantKey:
    def __init__(self, uow: UnitOfWork, clock: Clock, tokens: TokenGenerator) -> None:
        self._uow, self._clock, self._tokens = uow, clock, tokens

    async def __call__(self, principal: Principal, tenant_id: uuid.UUID, name: str) -> IssuedKey:
        await require_tenant(self._uow, principal, tenant_id)
        key, token = new_tenant_key(tenant_id, name, self._clock.now(), self._tokens)
        await self._uow.api_keys.add(key)
        await self._uow.commit()
        return IssuedKey(key, token)


class ListTenantKeys:
    def __init__(self, uow: UnitOfWork) -> None:
        self._uow = uow

    async def __call__(self, principal: Principal, tenant_id: uuid.UUID) -> list[ApiKey]:
        await require_tenant(self._uow, principal, tenant_id)
        return await self._uow.api_keys.list_for_tenant(tenant_id)


class RevokeTenantKey:
    def __init__(self, uow: UnitOfWork) -> None:
        self._uow = uow

    async def __call__(self, principal: Principal, tenant_id: uuid.UUID, key_id: uuid.UUID) -> None:
        await require_tenant(self._uow, principal, tenant_id)
        key = await self._uow.api_keys.get(key_id)
        if key is None or key.tenant_id != tenant_id:
            raise NotFound("API key")
        await self._uow.api_keys.delete(key_id)
        await self._uow.commit()


class IssueOperatorKey:
    """For the command line only: whoever can reach the database is the operator."""

    def __init__(self, uow: UnitOfWork, clock: Clock, tokens: TokenGenerator) -> None:
        self._uow, self._clock, self._tokens = uow, clock, tokens

    async def __call__(self, name: str, *, only_if_none: bool = False) -> IssuedKey | None:
        await self._uow.scope_to(CONSOLE_OPERATOR)
        if only_if_none and await self._uow.api_keys.count_operator_keys() > 0:
            return None
        token = self._tokens.new_token(OPERATOR_TOKEN_PREFIX)
        key = ApiKey.from_token(
            id=new_id(), tenant_id=None, name=name, token=token, now=self._clock.now()
        )
        await self._uow.api_keys.add(key)
        await self._uow.commit()
        return IssuedKey(key, token)
