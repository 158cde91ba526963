"""Signed ticket webhooks: no bearer key; the signature is the authentication."""

from collections.abc import Callable
from typing import Any

from litestar import Request, Response, post
from litestar.openapi.datastructures import ResponseSpec
from litestar.params import FromPath

from adapters.webhooks.verifiers import JiraWebhookVerifier, StandardWebhookVerifier
from application.use_cases.ticket_payloads import jira_ticket, standard_ticket
from application.use_cases.ticket_webhooks import ReceiveTicketWebhook, TicketSource
from domain.ticket import Ticket
from entrypoints.http.body import check_depth
from entrypoints.http.dependencies import dependencies
from entrypoints.http.schemas.webhooks import JobOut

Req = Request[Any, Any, Any]


def bounded(parse: Callable[[bytes], Ticket]) -> Callable[[bytes], Ticket]:
    """The body limits every JSON body is held to (entrypoints/http/body.py), checked
    after the signature, before the JSON decoder runs."""

    def parse_within_limits(body: bytes) -> Ticket:
        check_depth(body)
        return parse(body)

    return parse_within_limits


STANDARD = TicketSource("standard", StandardWebhookVerifier(), bounded(standard_ticket))
JIRA = TicketSource("jira", JiraWebhookVerifier(), bounded(jira_ticket))
RESPONSES = {
    400: ResponseSpec(dict[str, Any], description="No (active) ticket agent configured"),
    401: ResponseSpec(dict[str, Any], description='{"detail": "Invalid signature"}'),
    422: ResponseSpec(dict[str, Any], description="Signed, but not a ticket"),
}


async def _receive(request: Req, tenant_id: str, source: TicketSource) -> Response[JobOut]:
    deps = dependencies(request)
    body = await request.body()  # raw bytes: verified before anything is parsed
    use_case = ReceiveTicketWebhook(deps.llm, deps.queue, source, deps.requeue_after)
    job = await use_case(tenant_id, body, dict(request.headers))
    return Response(JobOut(job), status_code=202)


@post(
    "/api/webhooks/tickets/{tenant_id:str}",
    tags=["webhooks"],
    status_code=202,
    security=[{}],  # no bearer: the signature authenticates
    responses=RESPONSES,
    summary="A ticket, signed on the Standard Webhooks scheme: runs the ticket agent",
    description=(
        "Headers `webhook-id`, `webhook-timestamp` (Unix seconds, 300 s tolerance) and "
        "`webhook-signature` (`v1,<base64 HMAC-SHA256>` list, keyed with the tenant's "
        "`whsec_` secret, over `{id}.{timestamp}.{raw body}`). Body: `{ticket_id, title, "
        "description?, ...}`. Any signature failure, or an unknown tenant, is the same 401; "
        "a webhook-id seen before answers the first job_id."
    ),
)
async def standard_webhook(request: Req, tenant_id: FromPath[str]) -> Response[JobOut]:
    return await _receive(request, tenant_id, STANDARD)


@post(
    "/api/webhooks/tickets/{tenant_id:str}/jira",
    tags=["webhooks"],
    status_code=202,
    security=[{}],  # no bearer: the signature authenticates
    responses=RESPONSES,
    summary="A Jira Cloud issue webhook (X-Hub-Signature: sha256=...): runs the ticket agent",
    description=(
        "`X-Hub-Signature: sha256=<hex HMAC-SHA256 of the raw body>` keyed with the tenant's "
        "whole `whsec_` secret; `X-Atlassian-Webhook-Identifier` names the delivery. Body: "
        "a Jira issue event (`issue.key`, `issue.fields.summary`, `description`, ...)."
    ),
)
async def jira_webhook(request: Req, tenant_id: FromPath[str]) -> Response[JobOut]:
    return await _receive(request, tenant_id, JIRA)


ROUTES = [standard_webhook, jira_webhook]
