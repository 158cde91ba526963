"""A tenant's webhook secret and ticket system (bearer-authenticated, tenant scope)."""

import uuid
from typing import Any

from litestar import Request, delete, get, post, put
from litestar.params import FromPath, JSONBody

from application.use_cases.ticket_systems import (
    ConfigureTicketSystem,
    GetTicketSystem,
    RemoveTicketSystem,
    TicketSystemSettings,
)
from application.use_cases.webhook_secrets import MintWebhookSecret
from entrypoints.http.dependencies import caller_scope
from entrypoints.http.schemas.webhooks import TicketSystemIn, TicketSystemOut, WebhookSecretOut

Req = Request[Any, Any, Any]


@post(
    "/api/tenants/{tenant_id:str}/webhook-secret",
    tags=["webhooks"],
    summary="Mint a webhook secret (shown once; the previous one verifies for 24 h more)",
)
async def mint_webhook_secret(request: Req, tenant_id: FromPath[uuid.UUID]) -> WebhookSecretOut:
    async with caller_scope(request) as (uow, principal, deps):
        minted = await MintWebhookSecret(uow, deps.clock, deps.llm.box)(principal, tenant_id)
    return WebhookSecretOut(minted.id, minted.secret, minted.created_at)


@put(
    "/api/tenants/{tenant_id:str}/ticket-system",
    tags=["webhooks"],
    summary="Configure where ticket enhancements are written back (credentials not returned)",
)
async def put_ticket_system(
    request: Req, tenant_id: FromPath[uuid.UUID], data: JSONBody[TicketSystemIn]
) -> TicketSystemOut:
    settings = TicketSystemSettings(data.kind, data.base_url, dict(data.credentials))
    async with caller_scope(request) as (uow, principal, deps):
        use_case = ConfigureTicketSystem(uow, deps.clock, deps.llm.box, deps.url_guard)
        return TicketSystemOut.of(await use_case(principal, tenant_id, settings))


@get("/api/tenants/{tenant_id:str}/ticket-system", tags=["webhooks"], summary="The ticket system")
async def get_ticket_system(request: Req, tenant_id: FromPath[uuid.UUID]) -> TicketSystemOut:
    async with caller_scope(request) as (uow, principal, _):
        return TicketSystemOut.of(await GetTicketSystem(uow)(principal, tenant_id))


@delete(
    "/api/tenants/{tenant_id:str}/ticket-system",
    tags=["webhooks"],
    summary="Stop writing enhancements back",
)
async def delete_ticket_system(request: Req, tenant_id: FromPath[uuid.UUID]) -> None:
    async with caller_scope(request) as (uow, principal, _):
        await RemoveTicketSystem(uow)(principal, tenant_id)


ROUTES = [mint_webhook_secret, put_ticket_system, get_ticket_system, delete_ticket_system]
