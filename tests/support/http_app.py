"""The HTTP app over in-memory adapters, with an operator key ready to use."""

import asyncio
from dataclasses import dataclass

from litestar import Litestar

from adapters.in_memory.store import InMemoryStore
from adapters.in_memory.unit_of_work import InMemoryUnitOfWork
from adapters.system import SecretsTokenGenerator, SystemClock
from application.use_cases.api_keys import IssueOperatorKey
from entrypoints.http.app import create_app
from entrypoints.http.dependencies import HttpDependencies


@dataclass
class InMemoryApp:
    app: Litestar
    store: InMemoryStore
    operator_key: str

    @property
    def operator(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.operator_key}"}


def in_memory_app() -> InMemoryApp:
    store = InMemoryStore()

    async def ready() -> dict[str, str]:
        return {"database": "ok"}

    async def operator_key() -> str:
        async with InMemoryUnitOfWork(store) as uow:
            issued = await IssueOperatorKey(uow, SystemClock(), SecretsTokenGenerator())("t")
        assert issued is not None
        return issued.token

    deps = HttpDependencies(
        uow_factory=lambda: InMemoryUnitOfWork(store),
        clock=SystemClock(),
        tokens=SecretsTokenGenerator(),
        readiness=ready,
    )
    return InMemoryApp(create_app(deps), store, asyncio.run(operator_key()))
