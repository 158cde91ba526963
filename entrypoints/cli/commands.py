"""The CLI's commands, each a small composition root of its own."""

import asyncio
from collections.abc import Awaitable, Callable
from typing import TypeVar

from adapters.sqlalchemy.unit_of_work import SqlUnitOfWork
from adapters.system import SecretsTokenGenerator, SystemClock
from application.use_cases.api_keys import IssuedKey, IssueOperatorKey
from application.use_cases.provider_removal import ReconcileGateway, ReconcileReport
from application.use_cases.secrets_rotation import RotateSecrets
from application.use_cases.services import LlmServices
from entrypoints.composition import (
    DatabaseUrls,
    database_urls,
    llm_gateway,
    runtime_engine,
    secret_box,
)
from entrypoints.settings import Settings

T = TypeVar("T")


def _with_engine(
    urls: DatabaseUrls,
    settings: Settings,
    work: Callable[[Callable[[], SqlUnitOfWork]], Awaitable[T]],
) -> T:
    async def run() -> T:
        engine = runtime_engine(urls, settings)
        try:
            return await work(lambda: SqlUnitOfWork(engine))
        finally:
            await engine.dispose()

    return asyncio.run(run())


def issue_operator_key(urls: DatabaseUrls, settings: Settings, *, first: bool) -> IssuedKey | None:
    async def work(uow_factory: Callable[[], SqlUnitOfWork]) -> IssuedKey | None:
        async with uow_factory() as uow:
            use_case = IssueOperatorKey(uow, SystemClock(), SecretsTokenGenerator())
            return await use_case("bootstrap" if first else "cli", only_if_none=first)

    return _with_engine(urls, settings, work)


def rotate_secrets(settings: Settings, batch_size: int) -> int:
    box = secret_box(settings)

    def progress(seen: int, resealed: int) -> None:
        print(f"  {seen} providers checked, {resealed} re-encrypted", flush=True)

    async def work(uow_factory: Callable[[], SqlUnitOfWork]) -> int:
        return await RotateSecrets(uow_factory, box, batch_size, progress)()

    return _with_engine(database_urls(settings), settings, work)


def reconcile_providers(settings: Settings) -> ReconcileReport:
    box, gateway = secret_box(settings), llm_gateway(settings)

    async def work(uow_factory: Callable[[], SqlUnitOfWork]) -> ReconcileReport:
        services = LlmServices(gateway, box, SystemClock(), uow_factory)
        async with uow_factory() as uow:
            return await ReconcileGateway(uow, services)()

    return _with_engine(database_urls(settings), settings, work)
