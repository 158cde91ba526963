"""The composition root: builds engines and adapters, hands them to the entry points."""

import logging
from dataclasses import dataclass

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from adapters.sqlalchemy import migrate
from adapters.sqlalchemy.engine import create_runtime_engine
from adapters.sqlalchemy.unit_of_work import SqlUnitOfWork
from adapters.system import SecretsTokenGenerator, SystemClock
from entrypoints.embedded_postgres import start_embedded_postgres
from entrypoints.http.dependencies import HttpDependencies
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


def run_migrations(urls: DatabaseUrls) -> None:
    migrate.upgrade(urls.owner, urls.runtime)


def http_dependencies(engine: AsyncEngine) -> HttpDependencies:
    async def readiness() -> dict[str, str]:
        try:
            async with engine.connect() as conn:
                await conn.execute(text("SELECT 1"))
        except Exception as exc:  # any failure means "not ready"; the reason goes to the log
            log.warning("readiness: database unavailable: %s", type(exc).__name__)
            return {"database": "unavailable"}
        return {"database": "ok"}

    return HttpDependencies(
        uow_factory=lambda: SqlUnitOfWork(engine),
        clock=SystemClock(),
        tokens=SecretsTokenGenerator(),
        readiness=readiness,
    )


def runtime_engine(urls: DatabaseUrls, settings: Settings) -> AsyncEngine:
    return create_runtime_engine(urls.runtime, pool_size=settings.db_pool_size)
