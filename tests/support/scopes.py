"""Units of work scoped to the operator or one tenant, for the adapter contract tests."""

import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from application.ports.unit_of_work import UnitOfWork, UnitOfWorkFactory
from domain.principal import CONSOLE_OPERATOR, Principal
from tests.support.factories import a_tenant

OPERATOR = CONSOLE_OPERATOR


def as_tenant(tenant_id: uuid.UUID) -> Principal:
    return Principal(key_id=tenant_id, tenant_id=tenant_id)


@asynccontextmanager
async def scoped(uow_factory: UnitOfWorkFactory, principal: Principal) -> AsyncIterator[UnitOfWork]:
    async with uow_factory() as uow:
        await uow.scope_to(principal)
        yield uow


async def new_tenant(uow_factory: UnitOfWorkFactory) -> uuid.UUID:
    tenant = a_tenant()
    async with uow_factory() as uow:
        await uow.scope_to(OPERATOR)
        await uow.tenants.add(tenant)
        await uow.commit()
    return tenant.id
