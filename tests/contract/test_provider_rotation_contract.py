"""Rotating a BYOK provider, through the use cases, over every gateway adapter: the fake,
the sandbox, and the LiteLLM adapter against the emulation of LiteLLM's key rules (no two
live keys share an alias, deleted keys answer /key/info from the archive)."""

from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass

import httpx
import pytest
import respx

from adapters.in_memory.store import InMemoryStore
from adapters.in_memory.unit_of_work import InMemoryUnitOfWork
from adapters.litellm.gateway import LiteLlmGateway
from adapters.sandbox_llm.gateway import SandboxLlmGateway
from adapters.system import SystemClock
from application.gateway_errors import UnknownVirtualKey
from application.ports.llm_gateway import LlmGateway
from application.ports.llm_types import ChatMessage, ChatRequest
from application.use_cases.provider_removal import ReconcileGateway
from application.use_cases.providers import (
    CreateProvider,
    NewProvider,
    OldKeyNotRevoked,
    ProviderWithKey,
    RotateProvider,
)
from application.use_cases.services import LlmServices
from domain.principal import Principal
from tests.support.factories import a_tenant
from tests.support.litellm_emulator import LiteLlmProxyEmulator
from tests.support.llm_helpers import FlakyGateway, box_of, canary

BASE_URL = "http://litellm.test"
MASTER_KEY = "sk-master-rotation-1b2c"


@dataclass
class Setup:
    gateway: LlmGateway
    break_revocation: Callable[[bool], None]  # the gateway refuses to revoke keys, or not


@asynccontextmanager
async def _setup(kind: str) -> AsyncIterator[Setup]:
    if kind == "fake":
        fake = FlakyGateway()
        yield Setup(fake, lambda on: setattr(fake, "down", {"revoke_key"} if on else set()))
    elif kind == "sandbox":
        yield Setup(SandboxLlmGateway(), lambda on: None)
    else:
        emulator = LiteLlmProxyEmulator(MASTER_KEY, alias_format_validation=True)
        with respx.mock(base_url=BASE_URL, assert_all_called=False) as router:
            emulator.install(router)
            gateway = LiteLlmGateway(
                BASE_URL, MASTER_KEY, timeout_s=5, max_retries=0,
                transport=httpx.AsyncHTTPTransport(),
            )  # fmt: skip

            def breaks(on: bool) -> None:
                emulator.unavailable = {"/key/delete"} if on else set()

            yield Setup(gateway, breaks)
            assert len(set(emulator.live_aliases())) == len(emulator.keys)
            await gateway.aclose()


@pytest.fixture(params=["fake", "sandbox", "litellm"])
async def setup(request: pytest.FixtureRequest) -> AsyncIterator[Setup]:
    async with _setup(request.param) as made:
        yield made


@pytest.fixture(params=["fake", "litellm"])
async def breakable(request: pytest.FixtureRequest) -> AsyncIterator[Setup]:
    """The adapters whose gateway can be made to fail (the sandbox never does)."""
    async with _setup(request.param) as made:
        yield made


class Tenant:
    def __init__(self, gateway: LlmGateway) -> None:
        self.store = InMemoryStore()
        tenant = a_tenant()
        self.store.tenants[tenant.id] = tenant
        self.id, self.principal = tenant.id, Principal(tenant.id, tenant.id)
        self.gateway = gateway
        self.services = LlmServices(gateway, box_of("rotation"), SystemClock(), self.uow)

    def uow(self) -> InMemoryUnitOfWork:
        return InMemoryUnitOfWork(self.store)

    async def scoped(self) -> InMemoryUnitOfWork:
        work = self.uow()
        await work.scope_to(self.principal)
        return work

    async def create(self) -> ProviderWithKey:
        new = NewProvider("openai", canary(), "gpt-4o-mini", max_budget=5.0)
        return await CreateProvider(await self.scoped(), self.services)(
            self.principal, self.id, new
        )

    async def rotate(self, made: ProviderWithKey, api_key: str | None = None) -> ProviderWithKey:
        rotate = RotateProvider(await self.scoped(), self.services)
        return await rotate(self.principal, self.id, made.provider.id, api_key)

    async def chat(self, made: ProviderWithKey, key: str) -> str:
        ask = ChatRequest(made.provider.deployment_name, (ChatMessage("user", "hi"),), api_key=key)
        return (await self.gateway.chat(ask)).content


async def test_rotation_mints_swaps_and_revokes_again_and_again(setup: Setup) -> None:
    tenant = Tenant(setup.gateway)
    made = await tenant.create()
    keys = [made.virtual_key]
    for api_key in (None, canary("second"), None):
        made = await tenant.rotate(made, api_key)
        keys.append(made.virtual_key)
    assert len(set(keys)) == 4
    assert await tenant.chat(made, keys[-1])
    for old in keys[:-1]:
        assert (await setup.gateway.key_info(old)).status in ("revoked", "invalid")
        with pytest.raises(UnknownVirtualKey):
            await tenant.chat(made, old)
    info = await setup.gateway.key_info(keys[-1])
    assert (info.status, info.max_budget) == ("active", 5.0)


async def test_a_rotation_that_could_not_revoke_is_safe_to_retry(breakable: Setup) -> None:
    setup = breakable
    tenant = Tenant(setup.gateway)
    first = await tenant.create()
    setup.break_revocation(True)
    with pytest.raises(OldKeyNotRevoked):
        await tenant.rotate(first)
    setup.break_revocation(False)
    again = await tenant.rotate(first)  # the same request again, as a client retries it
    assert await tenant.chat(again, again.virtual_key)
    await ReconcileGateway(tenant.uow(), tenant.services)()
    assert (await setup.gateway.key_info(first.virtual_key)).status in ("revoked", "invalid")
    assert tenant.store.orphans == {}
