import uuid

from application.ports.unit_of_work import UnitOfWork
from domain.errors import NotFound
from domain.principal import Principal
from domain.tenant import Tenant


async def require_tenant(uow: UnitOfWork, principal: Principal, tenant_id: uuid.UUID) -> Tenant:
    """The tenant, if it exists and the principal may see it; NotFound otherwise."""
    principal.require_access(tenant_id, "Tenant")
    tenant = await uow.tenants.get(tenant_id)
    if tenant is None:
        raise NotFound("Tenant")
    return tenant
