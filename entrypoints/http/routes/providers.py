import uuid
from typing import Any

from litestar import Request, Response, delete, get, post
from litestar.openapi import ResponseSpec
from litestar.params import FromPath, JSONBody

from application.use_cases.provider_removal import DeleteProvider
from application.use_cases.providers import (
    CreateProvider,
    ListProviders,
    NewProvider,
    RotateProvider,
    VerifyProvider,
    get_provider,
)
from entrypoints.http.dependencies import caller_scope
from entrypoints.http.openapi import errors
from entrypoints.http.schemas.providers import (
    ProviderCreate,
    ProviderOut,
    ProviderRotate,
    ProviderWithVirtualKey,
    RevokingOut,
    VerifyOut,
    with_virtual_key,
)

Req = Request[Any, Any, Any]
BASE = "/api/tenants/{tenant_id:str}/providers"
ONE = BASE + "/{provider_id:str}"
TenantId = FromPath[uuid.UUID]
ProviderId = FromPath[uuid.UUID]


@post(
    BASE,
    tags=["providers"],
    summary="Add a BYOK provider; returns its virtual key once",
    responses=errors(409, 502, 504),
)
async def create_provider(
    request: Req, tenant_id: TenantId, data: JSONBody[ProviderCreate]
) -> ProviderWithVirtualKey:
    new = NewProvider(data.provider_name, data.api_key, data.model, data.api_base, data.max_budget)
    async with caller_scope(request) as (uow, principal, deps):
        made = await CreateProvider(uow, deps.llm)(principal, tenant_id, new)
    return with_virtual_key(made.provider, made.virtual_key)


@get(BASE, tags=["providers"], summary="List providers (no secrets)")
async def list_providers(request: Req, tenant_id: TenantId) -> list[ProviderOut]:
    async with caller_scope(request) as (uow, principal, _):
        return [ProviderOut.of(p) for p in await ListProviders(uow)(principal, tenant_id)]


@get(ONE, tags=["providers"], summary="Get a provider (no secrets)")
async def get_one(request: Req, tenant_id: TenantId, provider_id: ProviderId) -> ProviderOut:
    async with caller_scope(request) as (uow, principal, _):
        return ProviderOut.of(await get_provider(uow, principal, tenant_id, provider_id))


@get(
    ONE + "/verify",
    tags=["providers"],
    summary="Ask the gateway about the virtual key",
    responses=errors(502, 504),
)
async def verify(request: Req, tenant_id: TenantId, provider_id: ProviderId) -> VerifyOut:
    async with caller_scope(request) as (uow, principal, deps):
        info = await VerifyProvider(uow, deps.llm)(principal, tenant_id, provider_id)
    return VerifyOut(status=info.status, spend=info.spend, max_budget=info.max_budget)


@post(
    ONE + "/rotate",
    tags=["providers"],
    status_code=200,
    summary="New virtual key (and optionally a new provider key); the old key is revoked",
    responses=errors(409, 502, 504),
)
async def rotate(
    request: Req, tenant_id: TenantId, provider_id: ProviderId, data: JSONBody[ProviderRotate]
) -> ProviderWithVirtualKey:
    async with caller_scope(request) as (uow, principal, deps):
        made = await RotateProvider(uow, deps.llm)(principal, tenant_id, provider_id, data.api_key)
    return with_virtual_key(made.provider, made.virtual_key)


@delete(
    ONE,
    tags=["providers"],
    status_code=204,
    summary="Delete; 202 if the gateway revocation is still pending (retried)",
    responses={202: ResponseSpec(RevokingOut, description="Deleted; revocation pending")},
)
async def delete_provider(
    request: Req, tenant_id: TenantId, provider_id: ProviderId
) -> Response[None]:
    async with caller_scope(request) as (uow, principal, deps):
        done = await DeleteProvider(uow, deps.llm)(principal, tenant_id, provider_id)
    if done:
        return Response(None, status_code=204)
    detail = "Deleted; the gateway revocation is pending and will be retried"
    # The annotation documents the 204 (Litestar allows no other for it); the 202 and its
    # body are documented in `responses`.
    return Response(RevokingOut(detail=detail), status_code=202)  # type: ignore[arg-type]


ROUTES = [create_provider, list_providers, get_one, verify, rotate, delete_provider]
