"""The composition root: builds engines and adapters, hands them to the entry points."""

import asyncio
import logging
from dataclasses import dataclass
from datetime import timedelta

from dramatiq.brokers.redis import RedisBroker
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from adapters.dramatiq_queue.broker import dead_letter_count, make_broker
from adapters.litellm.gateway import LiteLlmGateway
from adapters.mcp.connector import SdkMcpConnector
from adapters.mcp.policy import OperatorMcpPolicy
from adapters.nacl.key_file import load_or_create_key_file
from adapters.nacl.secret_box import NaclSecretBox
from adapters.net.ssrf import SsrfUrlGuard
from adapters.redis_events.log import RedisExecutionEvents
from adapters.sandbox_llm.gateway import SandboxLlmGateway
from adapters.sqlalchemy import migrate
from adapters.sqlalchemy.checkout import check_in, check_out
from adapters.sqlalchemy.engine import create_runtime_engine
from adapters.sqlalchemy.unit_of_work import SqlUnitOfWork
from adapters.system import SecretsTokenGenerator, SystemClock
from application.ports.execution_events import ExecutionEventLog, NoExecutionEvents
from application.ports.job_queue import JobQueue
from application.ports.llm_gateway import LlmGateway
from application.ports.secret_box import SecretBox
from application.use_cases.mcp_services import McpServices, ToolLimits
from application.use_cases.queued_executions import REQUEUE_AFTER
from application.use_cases.services import LlmServices
from entrypoints.embedded_postgres import start_embedded_postgres
from entrypoints.embedded_redis import start_embedded_redis
from entrypoints.http.dependencies import HttpDependencies, ReadinessCheck
from entrypoints.settings import Settings

log = logging.getLogger("agentkeel")


@dataclass(frozen=True, slots=True)
class DatabaseUrls:
    runtime: str
    owner: str
    embedded: bool


def database_urls(settings: Settings) -> DatabaseUrls:
    """Runtime and owner URLs; each defaults to the other, both to the embedded server."""
    if settings.embedded:
        url = start_embedded_postgres(settings.data_dir)
        return DatabaseUrls(runtime=url, owner=url, embedded=True)
    runtime = settings.database_url or settings.migration_database_url
    owner = settings.migration_database_url or settings.database_url
    assert runtime is not None and owner is not None
    return DatabaseUrls(runtime=runtime, owner=owner, embedded=False)


def run_migrations(urls: DatabaseUrls, revision: str = "head") -> str | None:
    """To `revision` (up or down) as the owner; at head the runtime grants are reset."""
    return migrate.migrate_to(urls.owner, urls.runtime, revision)


class ConfigurationError(Exception):
    """The environment does not describe a service that can start; the message says why."""


def secret_box(settings: Settings) -> NaclSecretBox:
    if settings.secret_keys:
        return NaclSecretBox.from_env_value(settings.secret_keys)
    if settings.embedded:
        return NaclSecretBox.from_env_value(
            load_or_create_key_file(settings.data_dir / "secret_keys")
        )
    raise ConfigurationError(
        "AGENTKEEL_SECRET_KEYS is required when a database URL is configured "
        "(format kid:base64-of-32-bytes, comma-separated, first one encrypts)"
    )


def llm_gateway(settings: Settings) -> LlmGateway:
    """LiteLLM when configured; otherwise the offline sandbox (a documented test mode)."""
    if settings.litellm_url:
        return LiteLlmGateway(
            settings.litellm_url, settings.litellm_master_key or "", settings.gateway_timeout_s
        )
    log.warning("AGENTKEEL_LITELLM_URL is not set: LLM calls go to the offline sandbox")
    return SandboxLlmGateway()


def mcp_services(settings: Settings) -> McpServices:
    """The SDK connector under the operator's policy (allowlist, private URLs), bounded."""
    policy = OperatorMcpPolicy(
        settings.mcp_stdio_commands, allow_private_urls=settings.mcp_allow_private_urls
    )
    limits = ToolLimits(
        max_steps=settings.mcp_max_tool_steps,
        call_timeout_s=settings.mcp_tool_timeout_s,
        connect_timeout_s=settings.mcp_connect_timeout_s,
    )
    return McpServices(SdkMcpConnector(policy), policy, limits)


def redis_url(settings: Settings) -> str:
    """AGENTKEEL_REDIS_URL, else the embedded redis-server (see `embedded_redis`)."""
    return settings.redis_url or start_embedded_redis(settings.data_dir)


def broker(settings: Settings) -> RedisBroker:
    url = redis_url(settings)
    return make_broker(url, heartbeat_timeout_ms=int(settings.broker_heartbeat_timeout_s * 1000))


def execution_events(settings: Settings) -> RedisExecutionEvents:
    """Where workers publish what runs do, and GET /api/executions/{id}/events reads it:
    streams on the broker's Redis."""
    return RedisExecutionEvents(redis_url(settings))


def broker_readiness(redis_broker: RedisBroker) -> ReadinessCheck:
    async def check() -> dict[str, str]:
        try:
            dead = await asyncio.to_thread(dead_letter_count, redis_broker)
        except Exception as exc:  # any failure means "not ready"; the reason goes to the log
            log.warning("readiness: broker unavailable: %s", type(exc).__name__)
            return {"broker": "unavailable"}
        return {"broker": "ok", "dead_letters": str(dead)}

    return check


def http_dependencies(
    engine: AsyncEngine,
    gateway: LlmGateway,
    box: SecretBox,
    queue: JobQueue,
    broker_check: ReadinessCheck | None = None,
    *,
    metrics_public: bool = False,
    requeue_after: timedelta = REQUEUE_AFTER,
    allow_private_callbacks: bool = False,
    mcp: McpServices | None = None,
    events: ExecutionEventLog | None = None,
) -> HttpDependencies:
    async def readiness() -> dict[str, str]:
        checks = {"database": "ok"}
        try:
            conn, gate = await check_out(engine)  # in line with the requests
            try:
                await conn.execute(text("SELECT 1"))
            finally:
                await check_in(conn, gate)
        except Exception as exc:  # any failure means "not ready"; the reason goes to the log
            log.warning("readiness: database unavailable: %s", type(exc).__name__)
            checks["database"] = "unavailable"
        if broker_check is not None:
            checks.update(await broker_check())
        return checks

    def uow_factory() -> SqlUnitOfWork:
        return SqlUnitOfWork(engine)

    clock = SystemClock()
    return HttpDependencies(
        uow_factory=uow_factory,
        clock=clock,
        tokens=SecretsTokenGenerator(),
        readiness=readiness,
        llm=LlmServices(
            gateway=gateway,
            box=box,
            clock=clock,
            uow_factory=uow_factory,
            mcp=mcp,
            events=events or NoExecutionEvents(),
        ),
        queue=queue,
        metrics_public=metrics_public,
        requeue_after=requeue_after,
        url_guard=SsrfUrlGuard(allow_private=allow_private_callbacks),
    )


def runtime_engine(urls: DatabaseUrls, settings: Settings) -> AsyncEngine:
    return create_runtime_engine(urls.runtime, pool_size=settings.db_pool_size)
