"""What the HTTP layer needs from the composition root, and the per-request scope."""

import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from litestar import Request
from litestar.connection import ASGIConnection

from adapters.net.ssrf import SsrfUrlGuard
from application.ports.clock import Clock
from application.ports.job_queue import JobQueue
from application.ports.outbound import UrlGuard
from application.ports.token_generator import TokenGenerator
from application.ports.unit_of_work import UnitOfWork, UnitOfWorkFactory
from application.use_cases.authenticate import Authenticate
from application.use_cases.callbacks import CallbackPlanner
from application.use_cases.execution_events import HEARTBEAT_S
from application.use_cases.queued_executions import REQUEUE_AFTER
from application.use_cases.services import LlmServices
from domain.api_key import check_token_shape
from domain.principal import Principal
from entrypoints.http.errors import NotAuthenticated

ReadinessCheck = Callable[[], Awaitable[dict[str, str]]]


@dataclass(frozen=True, slots=True)
class HttpDependencies:
    uow_factory: UnitOfWorkFactory
    clock: Clock
    tokens: TokenGenerator
    readiness: ReadinessCheck
    llm: LlmServices
    queue: JobQueue
    metrics_public: bool = False
    requeue_after: timedelta = REQUEUE_AFTER
    # Tenant-chosen URLs (callbacks, ticket systems): public addresses only, unless the
    # operator allows private ones (AGENTKEEL_ALLOW_PRIVATE_CALLBACKS).
    url_guard: UrlGuard = field(default_factory=lambda: SsrfUrlGuard(allow_private=False))

    @property
    def callbacks(self) -> CallbackPlanner:
        return CallbackPlanner(self.url_guard, self.clock)

    event_heartbeat_s: float = HEARTBEAT_S  # GET /api/executions/{id}/events: ping, re-read


def dependencies(request: Request[Any, Any, Any]) -> HttpDependencies:
    deps: HttpDependencies = request.app.state.deps
    return deps


def bearer_token(connection: ASGIConnection[Any, Any, Any, Any]) -> str:
    header = connection.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    token = token.strip()
    if scheme.lower() != "bearer" or not token:
        raise NotAuthenticated()
    return token


async def require_bearer(request: Request[Any, Any, Any]) -> None:
    """Runs before the path and body are parsed, so an anonymous caller learns nothing but
    401. A before-request hook, not a guard: Litestar copies the handler for each guard
    call and runs a sync one in a worker thread, which cost a third of the throughput."""
    check_token_shape(bearer_token(request))


@asynccontextmanager
async def caller_scope(
    request: Request[Any, Any, Any],
    agent: uuid.UUID | str | None = None,
    *,
    to_run: bool = False,
) -> AsyncIterator[tuple[UnitOfWork, Principal, HttpDependencies]]:
    """One unit of work for the request, scoped to the authenticated caller. `agent`: the
    agent the request is about, by id or by name (`to_run`: runs now), which the unit of
    work may read with the key (AgentRepository.prefetch)."""
    token = bearer_token(request)
    deps = dependencies(request)
    async with deps.uow_factory() as uow:
        if agent is not None:
            uow.agents.prefetch(agent, to_run=to_run)
        principal = await Authenticate(uow)(token)
        yield uow, principal, deps
