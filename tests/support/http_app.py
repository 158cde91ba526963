"""The HTTP app over in-memory adapters, with an operator key ready to use."""

import base64
from dataclasses import dataclass
from typing import Any

import httpx
from litestar import Litestar

from adapters.fake_llm.gateway import FakeLlmGateway
from adapters.in_memory.execution_events import InMemoryExecutionEvents
from adapters.in_memory.job_queue import InMemoryJobQueue
from adapters.in_memory.store import InMemoryStore
from adapters.in_memory.unit_of_work import InMemoryUnitOfWork
from adapters.nacl.secret_box import NaclSecretBox
from adapters.system import SecretsTokenGenerator, SystemClock
from application.use_cases.mcp_services import McpServices
from application.use_cases.services import LlmServices
from domain.api_key import OPERATOR_TOKEN_PREFIX, ApiKey
from domain.ids import new_id
from entrypoints.http.app import create_app
from entrypoints.http.dependencies import HttpDependencies
from tests.support.mcp.world import mcp_services_for_tests


@dataclass
class InMemoryApp:
    app: Litestar
    store: InMemoryStore
    operator_key: str
    gateway: FakeLlmGateway
    queue: InMemoryJobQueue
    events: InMemoryExecutionEvents
    services: LlmServices

    @property
    def operator(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.operator_key}"}

    async def acme(self, http: httpx.AsyncClient) -> tuple[dict[str, Any], dict[str, str]]:
        """Tenant "acme", made by the operator through `http`: its JSON, and the bearer
        headers of its first key."""
        body = {"name": "acme", "admin_email": "ops@acme.example"}
        tenant: dict[str, Any] = (
            await http.post("/api/tenants", json=body, headers=self.operator)
        ).json()
        return tenant, {"Authorization": f"Bearer {tenant['api_key']}"}


def in_memory_app(mcp: McpServices | None = None) -> InMemoryApp:
    """`mcp`: the real SDK connector under a test policy unless given."""
    store = InMemoryStore()

    async def ready() -> dict[str, str]:
        return {"database": "ok"}

    token = SecretsTokenGenerator().new_token(OPERATOR_TOKEN_PREFIX)
    key = ApiKey.from_token(
        id=new_id(), tenant_id=None, name="test", token=token, now=SystemClock().now()
    )
    store.api_keys[key.id] = key

    def uow_factory() -> InMemoryUnitOfWork:
        return InMemoryUnitOfWork(store)

    clock = SystemClock()
    gateway = FakeLlmGateway()
    queue = InMemoryJobQueue()
    events = InMemoryExecutionEvents()
    box = NaclSecretBox.from_env_value("test:" + base64.b64encode(bytes(32)).decode())
    deps = HttpDependencies(
        uow_factory=uow_factory,
        clock=clock,
        tokens=SecretsTokenGenerator(),
        readiness=ready,
        llm=LlmServices(
            gateway=gateway,
            box=box,
            clock=clock,
            uow_factory=uow_factory,
            mcp=mcp or mcp_services_for_tests(),
            events=events,
        ),
        queue=queue,
    )
    return InMemoryApp(create_app(deps), store, token, gateway, queue, events, deps.llm)
