"""AgentRepository's lookups by name and by status, the same on every adapter: names are
unique per tenant, and a lookup never reaches past the unit of work's scope."""

import uuid

import pytest

from application.ports.page import Page
from application.ports.unit_of_work import UnitOfWorkFactory
from domain.agent import AgentStatus
from domain.api_key import hash_token
from tests.support.factories import a_key, an_agent
from tests.support.scopes import OPERATOR, as_tenant, new_tenant, scoped


async def test_by_name_finds_the_tenants_agent(uow_factory: UnitOfWorkFactory) -> None:
    tenant = await new_tenant(uow_factory)
    agent = an_agent(tenant, temperature=1.5, max_tokens=64, status=AgentStatus.DRAFT)
    async with scoped(uow_factory, as_tenant(tenant)) as uow:
        await uow.agents.add(agent)
        await uow.agents.add(an_agent(tenant))
        await uow.commit()
    async with scoped(uow_factory, as_tenant(tenant)) as uow:
        found = await uow.agents.by_name(tenant, agent.name)
    assert found is not None
    assert (found.id, found.tenant_id, found.name) == (agent.id, tenant, agent.name)
    # Mapped as `get` maps it, status included: callers decide what a draft may do.
    assert (found.temperature, found.max_tokens, found.status) == (1.5, 64, AgentStatus.DRAFT)


@pytest.mark.parametrize("name", ["nobody", "", " ", "x" * 201, "with\x00nul", "%", "_"])
async def test_by_name_of_no_agent_is_none(uow_factory: UnitOfWorkFactory, name: str) -> None:
    tenant = await new_tenant(uow_factory)
    async with scoped(uow_factory, as_tenant(tenant)) as uow:
        await uow.agents.add(an_agent(tenant, name="somebody"))
        await uow.commit()
    async with scoped(uow_factory, as_tenant(tenant)) as uow:
        assert await uow.agents.by_name(tenant, name) is None
        assert await uow.agents.by_name(tenant, "Somebody") is None  # exact, case included


async def test_by_name_stays_in_its_tenant(uow_factory: UnitOfWorkFactory) -> None:
    a, b = await new_tenant(uow_factory), await new_tenant(uow_factory)
    mine, theirs = an_agent(a, name="shared"), an_agent(b, name="shared")
    only_theirs = an_agent(b)
    async with scoped(uow_factory, OPERATOR) as uow:
        for agent in (mine, theirs, only_theirs):
            await uow.agents.add(agent)
        await uow.commit()
    async with scoped(uow_factory, as_tenant(a)) as uow:
        found = await uow.agents.by_name(a, "shared")
        assert found is not None and found.id == mine.id
        # Another tenant's agent, asked for by its tenant: out of scope, so not there.
        assert await uow.agents.by_name(b, "shared") is None
        assert await uow.agents.by_name(b, only_theirs.name) is None
        assert await uow.agents.by_name(a, only_theirs.name) is None
    async with scoped(uow_factory, OPERATOR) as uow:
        found = await uow.agents.by_name(b, "shared")
        assert found is not None and found.id == theirs.id
    async with uow_factory() as uow:  # no scope: nothing
        assert await uow.agents.by_name(a, "shared") is None


async def test_by_name_sees_the_units_own_changes(uow_factory: UnitOfWorkFactory) -> None:
    tenant = await new_tenant(uow_factory)
    agent = an_agent(tenant, name="before")
    async with scoped(uow_factory, as_tenant(tenant)) as uow:
        await uow.agents.add(agent)  # the SQL adapter holds the INSERT back: sent first
        assert await uow.agents.by_name(tenant, "before") is not None
        agent.update({"name": "after"}, agent.updated_at)
        await uow.agents.update(agent)
        assert await uow.agents.by_name(tenant, "before") is None
        renamed = await uow.agents.by_name(tenant, "after")
        assert renamed is not None and renamed.id == agent.id
        await uow.commit()
    async with scoped(uow_factory, as_tenant(tenant)) as uow:
        assert await uow.agents.delete(agent.id)
        assert await uow.agents.by_name(tenant, "after") is None


async def test_list_by_status_filters_before_paging(uow_factory: UnitOfWorkFactory) -> None:
    a, b = await new_tenant(uow_factory), await new_tenant(uow_factory)
    statuses = [AgentStatus.ACTIVE, AgentStatus.DRAFT, AgentStatus.ACTIVE, AgentStatus.SUSPENDED]
    statuses += [AgentStatus.INACTIVE, AgentStatus.ACTIVE]
    agents = [an_agent(a, status=status) for status in statuses]
    async with scoped(uow_factory, OPERATOR) as uow:
        for agent in agents:
            await uow.agents.add(agent)
        await uow.agents.add(an_agent(b))
        await uow.commit()
    active = await _in_list_order(uow_factory, a, {x.id for x in agents if x.is_runnable})
    async with scoped(uow_factory, as_tenant(a)) as uow:
        listed = await uow.agents.list(a, Page(limit=200), status=AgentStatus.ACTIVE)
        first = await uow.agents.list(a, Page(limit=2), status=AgentStatus.ACTIVE)
        rest = await uow.agents.list(a, Page(limit=2, offset=2), status=AgentStatus.ACTIVE)
        drafts = await uow.agents.list(None, Page(limit=200), status=AgentStatus.DRAFT)
    assert [x.id for x in listed] == active
    assert [x.id for x in first + rest] == active
    assert [x.id for x in drafts] == [agents[1].id]
    async with scoped(uow_factory, OPERATOR) as uow:
        everywhere = await uow.agents.list(None, Page(limit=200), status=AgentStatus.ACTIVE)
    assert {x.tenant_id for x in everywhere} >= {a, b}
    assert all(x.status is AgentStatus.ACTIVE for x in everywhere)


async def _in_list_order(
    uow_factory: UnitOfWorkFactory, tenant: uuid.UUID, ids: set[uuid.UUID]
) -> list[uuid.UUID]:
    """`ids` in the order the unfiltered list gives them (oldest first, then by id)."""
    async with scoped(uow_factory, as_tenant(tenant)) as uow:
        every = await uow.agents.list(tenant, Page(limit=200))
    return [x.id for x in every if x.id in ids]


@pytest.mark.parametrize("to_run", [False, True], ids=["read", "run"])
async def test_a_prefetch_by_id_or_name_changes_no_answer(
    uow_factory: UnitOfWorkFactory, to_run: bool
) -> None:
    """The hint is read with the key (the SQL adapter: in the key lookup's batch, under the
    context it sets): whatever it names, the reads answer as they would without it."""
    a, b = await new_tenant(uow_factory), await new_tenant(uow_factory)
    mine, theirs = an_agent(a, name="shared"), an_agent(b, name="shared")
    key, token = a_key(a)
    async with scoped(uow_factory, OPERATOR) as uow:
        await uow.agents.add(mine)
        await uow.agents.add(theirs)
        await uow.api_keys.add(key)
        await uow.commit()
    hints: list[uuid.UUID | str] = [mine.id, "shared", theirs.id, "nobody", "", "a\x00b"]
    for hint in hints:
        async with uow_factory() as uow:
            uow.agents.prefetch(hint, to_run=to_run)
            principal = await uow.authenticate(hash_token(token))
            assert principal is not None and principal.tenant_id == a
            by_name = await uow.agents.by_name(a, "shared")
            assert by_name is not None and by_name.id == mine.id, hint
            by_id = await uow.agents.get(mine.id)
            assert by_id is not None and by_id.name == "shared", hint
            assert await uow.agents.get(theirs.id) is None, hint
            assert await uow.agents.by_name(b, "shared") is None, hint
            assert await uow.agents.by_name(a, "nobody") is None, hint
