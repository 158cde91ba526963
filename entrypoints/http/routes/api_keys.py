import uuid
from typing import Any

from litestar import Request, delete, get, post
from litestar.params import FromPath, JSONBody

from application.use_cases.api_keys import IssueTenantKey, ListTenantKeys, RevokeTenantKey
from entrypoints.http.dependencies import caller_scope
from entrypoints.http.schemas.api_keys import ApiKeyCreate, ApiKeyCreated, ApiKeyOut

Req = Request[Any, Any, Any]
BASE = "/api/tenants/{tenant_id:str}/api-keys"


@post(BASE, tags=["api keys"], summary="Issue a tenant API key (shown once)")
async def issue_key(
    request: Req, tenant_id: FromPath[uuid.UUID], data: JSONBody[ApiKeyCreate]
) -> ApiKeyCreated:
    async with caller_scope(request) as (uow, principal, deps):
        issued = await IssueTenantKey(uow, deps.clock, deps.tokens)(principal, tenant_id, data.name)
    key = issued.key
    return ApiKeyCreated(
        id=key.id, name=key.name, prefix=key.prefix, key=issued.token, created_at=key.created_at
    )


@get(BASE, tags=["api keys"], summary="List a tenant's API keys (no secrets)")
async def list_keys(request: Req, tenant_id: FromPath[uuid.UUID]) -> list[ApiKeyOut]:
    async with caller_scope(request) as (uow, principal, _):
        keys = await ListTenantKeys(uow)(principal, tenant_id)
    return [ApiKeyOut.of(k) for k in keys]


@delete(BASE + "/{key_id:str}", tags=["api keys"], summary="Revoke an API key at once")
async def revoke_key(
    request: Req, tenant_id: FromPath[uuid.UUID], key_id: FromPath[uuid.UUID]
) -> None:
    async with caller_scope(request) as (uow, principal, _):
        await RevokeTenantKey(uow)(principal, tenant_id, key_id)


ROUTES = [issue_key, list_keys, revoke_key]
