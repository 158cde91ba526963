"""Use cases over the in-memory adapters. Several tests give the unit of work the operator's
scope on purpose: the use case alone must still keep a tenant inside its own rows."""

import base64
import uuid

import pytest

from adapters.fake_llm.gateway import FakeLlmGateway
from adapters.in_memory.store import InMemoryStore
from adapters.in_memory.unit_of_work import InMemoryUnitOfWork
from adapters.nacl.secret_box import NaclSecretBox
from adapters.system import SecretsTokenGenerator, SystemClock
from application.ports.page import Page
from application.use_cases.agents import (
    CreateAgent,
    DeleteAgent,
    GetAgent,
    ListAgents,
    NewAgent,
    UpdateAgent,
)
from application.use_cases.api_keys import IssueOperatorKey, IssueTenantKey, RevokeTenantKey
from application.use_cases.authenticate import Authenticate
from application.use_cases.providers import CreateProvider, NewProvider
from application.use_cases.services import LlmServices
from application.use_cases.tenants import (
    CreateTenant,
    DeleteTenant,
    GetTenant,
    ListTenants,
    TenantChanges,
    UpdateTenant,
)
from domain.errors import Forbidden, InvalidCredentials, InvalidValue, NotFound
from domain.principal import CONSOLE_OPERATOR, Principal

CLOCK, TOKENS = SystemClock(), SecretsTokenGenerator()
BOX = NaclSecretBox.from_env_value("t:" + base64.b64encode(bytes(32)).decode())


def services(store: InMemoryStore) -> LlmServices:
    return LlmServices(FakeLlmGateway(), BOX, CLOCK, lambda: InMemoryUnitOfWork(store))


@pytest.fixture
def store() -> InMemoryStore:
    return InMemoryStore()


def uow(store: InMemoryStore) -> InMemoryUnitOfWork:
    return InMemoryUnitOfWork(store)


async def make_tenant(store: InMemoryStore, name: str) -> tuple[uuid.UUID, Principal]:
    async with uow(store) as work:
        await work.scope_to(CONSOLE_OPERATOR)
        created = await CreateTenant(work, CLOCK, TOKENS)(CONSOLE_OPERATOR, name, "a@b.io")
    async with uow(store) as work:
        principal = await Authenticate(work)(created.api_key)
    return created.tenant.id, principal


async def operator_scoped(store: InMemoryStore) -> InMemoryUnitOfWork:
    work = uow(store)
    await work.scope_to(CONSOLE_OPERATOR)
    return work


async def test_only_the_operator_creates_and_deletes_tenants(store: InMemoryStore) -> None:
    tenant_id, tenant = await make_tenant(store, "acme")
    work = await operator_scoped(store)
    with pytest.raises(Forbidden):
        await CreateTenant(work, CLOCK, TOKENS)(tenant, "other", "a@b.io")
    with pytest.raises(Forbidden):
        await DeleteTenant(work, services(store))(tenant, tenant_id)
    with pytest.raises(NotFound):  # another tenant: existence not revealed
        await DeleteTenant(work, services(store))(tenant, uuid.uuid4())
    await DeleteTenant(work, services(store))(CONSOLE_OPERATOR, tenant_id)
    with pytest.raises(NotFound):
        await DeleteTenant(await operator_scoped(store), services(store))(
            CONSOLE_OPERATOR, tenant_id
        )


async def test_a_tenant_lists_and_reads_only_itself(store: InMemoryStore) -> None:
    a_id, a = await make_tenant(store, "a")
    b_id, _ = await make_tenant(store, "b")
    work = await operator_scoped(store)
    assert [t.id for t in await ListTenants(work)(a, Page())] == [a_id]
    assert {t.id for t in await ListTenants(work)(CONSOLE_OPERATOR, Page())} == {a_id, b_id}
    with pytest.raises(NotFound):
        await GetTenant(work)(a, b_id)


async def test_tenant_updates(store: InMemoryStore) -> None:
    a_id, a = await make_tenant(store, "a")
    _, b = await make_tenant(store, "b")
    with pytest.raises(Forbidden):
        await UpdateTenant(await operator_scoped(store), CLOCK)(a, a_id, TenantChanges(name="z"))
    work = await operator_scoped(store)
    theirs = await CreateAgent(work, CLOCK)(b, NewAgent(name="t", system_prompt="p"))
    with pytest.raises(InvalidValue):
        await UpdateTenant(await operator_scoped(store), CLOCK)(
            a, a_id, TenantChanges(ticket_agent_id=theirs.id)
        )
    mine = await CreateAgent(await operator_scoped(store), CLOCK)(
        a, NewAgent(name="m", system_prompt="p")
    )
    updated = await UpdateTenant(await operator_scoped(store), CLOCK)(
        a, a_id, TenantChanges(admin_email="new@a.io", ticket_agent_id=mine.id)
    )
    assert (updated.admin_email, updated.ticket_agent_id) == ("new@a.io", mine.id)
    cleared = await UpdateTenant(await operator_scoped(store), CLOCK)(
        a, a_id, TenantChanges(clear_ticket_agent=True)
    )
    assert cleared.ticket_agent_id is None


async def test_agents_stay_inside_their_tenant(store: InMemoryStore) -> None:
    a_id, a = await make_tenant(store, "a")
    b_id, b = await make_tenant(store, "b")
    with pytest.raises(Forbidden):
        await CreateAgent(await operator_scoped(store), CLOCK)(
            a, NewAgent(name="x", system_prompt="p", tenant_id=b_id)
        )
    theirs = await CreateAgent(await operator_scoped(store), CLOCK)(
        b, NewAgent(name="x", system_prompt="p")
    )
    work = await operator_scoped(store)
    for call in (
        GetAgent(work)(a, theirs.id),
        UpdateAgent(work, CLOCK)(a, theirs.id, {"name": "stolen"}),
        DeleteAgent(work)(a, theirs.id),
    ):
        with pytest.raises(NotFound):
            await call
    assert await ListAgents(work)(a, Page()) == []
    assert await ListAgents(work)(a, Page(), tenant_id=b_id) == []
    assert [x.id for x in await ListAgents(work)(CONSOLE_OPERATOR, Page(), b_id)] == [theirs.id]
    assert a_id != b_id


async def test_operator_must_name_the_tenant_and_provider_ids_are_refused(
    store: InMemoryStore,
) -> None:
    a_id, _ = await make_tenant(store, "a")
    with pytest.raises(InvalidValue) as raised:
        await CreateAgent(await operator_scoped(store), CLOCK)(
            CONSOLE_OPERATOR, NewAgent(name="x", system_prompt="p")
        )
    assert raised.value.field == "tenant_id"
    with pytest.raises(InvalidValue) as raised:
        await CreateAgent(await operator_scoped(store), CLOCK)(
            CONSOLE_OPERATOR,
            NewAgent(name="x", system_prompt="p", tenant_id=a_id, provider_id=uuid.uuid4()),
        )
    assert raised.value.field == "provider_id"


async def test_keys_issue_revoke_and_authenticate(store: InMemoryStore) -> None:
    a_id, a = await make_tenant(store, "a")
    b_id, _ = await make_tenant(store, "b")
    with pytest.raises(NotFound):
        await IssueTenantKey(await operator_scoped(store), CLOCK, TOKENS)(a, b_id, "x")
    issued = await IssueTenantKey(await operator_scoped(store), CLOCK, TOKENS)(a, a_id, "ci")
    assert issued.token.startswith("ak_tn_")
    async with uow(store) as work:
        assert (await Authenticate(work)(issued.token)).tenant_id == a_id
    with pytest.raises(NotFound):  # right key id, wrong tenant in the path
        await RevokeTenantKey(await operator_scoped(store))(CONSOLE_OPERATOR, b_id, issued.key.id)
    await RevokeTenantKey(await operator_scoped(store))(a, a_id, issued.key.id)
    async with uow(store) as work:
        with pytest.raises(InvalidCredentials):
            await Authenticate(work)(issued.token)


async def test_operator_bootstrap_key_is_issued_once(store: InMemoryStore) -> None:
    async with uow(store) as work:
        first = await IssueOperatorKey(work, CLOCK, TOKENS)("boot", only_if_none=True)
    async with uow(store) as work:
        again = await IssueOperatorKey(work, CLOCK, TOKENS)("boot", only_if_none=True)
    assert first is not None
    assert again is None
    async with uow(store) as work:
        assert (await Authenticate(work)(first.token)).is_operator


async def test_an_agent_may_name_only_its_own_tenants_provider(store: InMemoryStore) -> None:
    a_id, a = await make_tenant(store, "a")
    b_id, b = await make_tenant(store, "b")
    made = {}
    for tenant_id, principal in ((a_id, a), (b_id, b)):
        made[tenant_id] = await CreateProvider(await operator_scoped(store), services(store))(
            principal, tenant_id, NewProvider("openai", "sk-test-provider-key", "gpt-4o-mini")
        )
    own = made[a_id].provider.id
    agent = await CreateAgent(await operator_scoped(store), CLOCK)(
        a, NewAgent(name="byok", system_prompt="p", use_byok=True, provider_id=own)
    )
    assert agent.provider_id == own
    with pytest.raises(InvalidValue) as raised:
        await UpdateAgent(await operator_scoped(store), CLOCK)(
            a, agent.id, {"provider_id": made[b_id].provider.id}
        )
    assert raised.value.field == "provider_id"
