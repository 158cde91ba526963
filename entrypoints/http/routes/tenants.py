import uuid
from typing import Any

from litestar import Request, delete, get, patch, post
from litestar.params import FromPath, JSONBody
from msgspec import UNSET

from application.use_cases.tenants import (
    CreateTenant,
    DeleteTenant,
    GetTenant,
    ListTenants,
    TenantChanges,
    UpdateTenant,
)
from entrypoints.http.dependencies import caller_scope
from entrypoints.http.openapi import errors
from entrypoints.http.routes.params import DEFAULT_PAGE_SIZE, Limit, Offset, page
from entrypoints.http.schemas.tenants import (
    TenantCreate,
    TenantCreated,
    TenantOut,
    TenantPatch,
    tenant_created,
)

Req = Request[Any, Any, Any]


@post(
    "/api/tenants",
    tags=["tenants"],
    summary="Create a tenant (operator)",
    responses=errors(403, 409),
)
async def create_tenant(request: Req, data: JSONBody[TenantCreate]) -> TenantCreated:
    async with caller_scope(request) as (uow, principal, deps):
        created = await CreateTenant(uow, deps.clock, deps.tokens)(
            principal, data.name, data.admin_email
        )
    return tenant_created(created.tenant, created.api_key)


@get("/api/tenants", tags=["tenants"], summary="List tenants")
async def list_tenants(
    request: Req, limit: Limit = DEFAULT_PAGE_SIZE, offset: Offset = 0
) -> list[TenantOut]:
    async with caller_scope(request) as (uow, principal, _):
        tenants = await ListTenants(uow)(principal, page(limit, offset))
    return [TenantOut.of(t) for t in tenants]


@get("/api/tenants/{tenant_id:str}", tags=["tenants"], summary="Get a tenant")
async def get_tenant(request: Req, tenant_id: FromPath[uuid.UUID]) -> TenantOut:
    async with caller_scope(request) as (uow, principal, _):
        return TenantOut.of(await GetTenant(uow)(principal, tenant_id))


@patch(
    "/api/tenants/{tenant_id:str}",
    tags=["tenants"],
    summary="Update a tenant",
    responses=errors(403, 409),
)
async def update_tenant(
    request: Req, tenant_id: FromPath[uuid.UUID], data: JSONBody[TenantPatch]
) -> TenantOut:
    changes = TenantChanges(
        name=None if data.name is UNSET else data.name,
        admin_email=None if data.admin_email is UNSET else data.admin_email,
        ticket_agent_id=None if data.ticket_agent_id is UNSET else data.ticket_agent_id,
        clear_ticket_agent=data.ticket_agent_id is None,
    )
    async with caller_scope(request) as (uow, principal, deps):
        return TenantOut.of(await UpdateTenant(uow, deps.clock)(principal, tenant_id, changes))


@delete(
    "/api/tenants/{tenant_id:str}",
    tags=["tenants"],
    summary="Delete a tenant (operator)",
    responses=errors(403, 409),
)
async def delete_tenant(request: Req, tenant_id: FromPath[uuid.UUID]) -> None:
    async with caller_scope(request) as (uow, principal, deps):
        await DeleteTenant(uow, deps.llm)(principal, tenant_id)


ROUTES = [create_tenant, list_tenants, get_tenant, update_tenant, delete_tenant]
