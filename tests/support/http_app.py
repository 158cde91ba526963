"""The HTTP app over in-memory adapters, with an operator key ready to use."""

from dataclasses import dataclass

from litestar import Litestar

from adapters.in_memory.store import InMemoryStore
from adapters.in_memory.unit_of_work import InMemoryUnitOfWork
from adapters.system import SecretsTokenGenerator, SystemClock
from domain.api_key import OPERATOR_TOKEN_PREFIX, ApiKey
from domain.ids import new_id
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

    token = SecretsTokenGenerator().new_token(OPERATOR_TOKEN_PREFIX)
    key = ApiKey.from_token(
        id=new_id(), tenant_id=None, name="test", token=token, now=SystemClock().now()
    )
    store.api_keys[key.id] = key
    deps = HttpDependencies(
        uow_factory=lambda: InMemoryUnitOfWork(store),
        clock=SystemClock(),
        tokens=SecretsTokenGenerator(),
        readiness=ready,
    )
    return InMemoryApp(create_app(deps), store, token)
