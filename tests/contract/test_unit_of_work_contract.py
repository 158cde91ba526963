"""One suite, every adapter: in-memory and SQL units of work must behave the same."""

import uuid

import pytest

from application.ports.page import Page
from application.ports.unit_of_work import UnitOfWork, UnitOfWorkFactory
from domain.agent import Agent
from domain.api_key import ApiKey, hash_token
from domain.errors import Conflict, NotFound
from domain.principal import CONSOLE_OPERATOR, Principal
from domain.tenant import Tenant
from tests.support.factories import a_key, a_tenant, an_agent


async def _seed_tenant(uow_factory: UnitOfWorkFactory) -> tuple[Tenant, ApiKey, str]:
    tenant = a_tenant()
    key, token = a_key(tenant.id)
    async with uow_factory() as uow:
        await uow.scope_to(CONSOLE_OPERATOR)
        await uow.tenants.add(tenant)
        await uow.api_keys.add(key)
        await uow.commit()
    return tenant, key, token


def _tenant_principal(tenant_id: uuid.UUID) -> Principal:
    return Principal(key_id=tenant_id, tenant_id=tenant_id)


async def test_tenant_round_trip(uow_factory: UnitOfWorkFactory) -> None:
    tenant, _, _ = await _seed_tenant(uow_factory)
    async with uow_factory() as uow:
        await uow.scope_to(CONSOLE_OPERATOR)
        loaded = await uow.tenants.get(tenant.id)
    assert loaded is not None
    assert (loaded.name, loaded.admin_email, loaded.created_at) == (
        tenant.name,
        tenant.admin_email,
        tenant.created_at,
    )


async def test_agent_round_trip_and_update(uow_factory: UnitOfWorkFactory) -> None:
    tenant, _, _ = await _seed_tenant(uow_factory)
    agent = an_agent(tenant.id, temperature=1.25, max_tokens=300)
    async with uow_factory() as uow:
        await uow.scope_to(_tenant_principal(tenant.id))
        await uow.agents.add(agent)
        await uow.commit()
    async with uow_factory() as uow:
        await uow.scope_to(_tenant_principal(tenant.id))
        loaded = await uow.agents.get(agent.id)
        assert loaded is not None
        assert (loaded.temperature, loaded.max_tokens, loaded.status) == (1.25, 300, agent.status)
        loaded.update({"system_prompt": "changed"}, loaded.updated_at)
        await uow.agents.update(loaded)
        await uow.commit()
    async with uow_factory() as uow:
        await uow.scope_to(_tenant_principal(tenant.id))
        again = await uow.agents.get(agent.id)
        assert again is not None
        assert again.system_prompt == "changed"


async def test_uncommitted_work_is_rolled_back(uow_factory: UnitOfWorkFactory) -> None:
    tenant = a_tenant()
    async with uow_factory() as uow:
        await uow.scope_to(CONSOLE_OPERATOR)
        await uow.tenants.add(tenant)
    async with uow_factory() as uow:
        await uow.scope_to(CONSOLE_OPERATOR)
        assert await uow.tenants.get(tenant.id) is None


async def _add_and_commit(uow: UnitOfWork, agent: Agent) -> None:
    """`agents.add` may raise itself, or leave it to the commit (the SQL adapter sends the
    INSERT with it)."""
    await uow.agents.add(agent)
    await uow.commit()


async def test_duplicate_names_conflict(uow_factory: UnitOfWorkFactory) -> None:
    tenant, _, _ = await _seed_tenant(uow_factory)
    async with uow_factory() as uow:
        await uow.scope_to(CONSOLE_OPERATOR)
        with pytest.raises(Conflict):
            await uow.tenants.add(a_tenant(name=tenant.name))
    first = an_agent(tenant.id)
    async with uow_factory() as uow:
        await uow.scope_to(_tenant_principal(tenant.id))
        await uow.agents.add(first)
        with pytest.raises(Conflict):
            await _add_and_commit(uow, an_agent(tenant.id, name=first.name))


async def test_same_agent_name_in_two_tenants_is_fine(uow_factory: UnitOfWorkFactory) -> None:
    a, _, _ = await _seed_tenant(uow_factory)
    b, _, _ = await _seed_tenant(uow_factory)
    async with uow_factory() as uow:
        await uow.scope_to(CONSOLE_OPERATOR)
        await uow.agents.add(an_agent(a.id, name="shared"))
        await uow.agents.add(an_agent(b.id, name="shared"))
        await uow.commit()


async def test_agent_for_unknown_tenant_is_refused(uow_factory: UnitOfWorkFactory) -> None:
    orphan = an_agent(a_tenant().id)
    async with uow_factory() as uow:
        await uow.scope_to(CONSOLE_OPERATOR)
        with pytest.raises(NotFound) as raised:
            await _add_and_commit(uow, orphan)
    assert raised.value.entity == "Tenant"


async def test_scope_hides_other_tenants(uow_factory: UnitOfWorkFactory) -> None:
    a, _, _ = await _seed_tenant(uow_factory)
    b, _, _ = await _seed_tenant(uow_factory)
    agent_b = an_agent(b.id)
    async with uow_factory() as uow:
        await uow.scope_to(CONSOLE_OPERATOR)
        await uow.agents.add(agent_b)
        await uow.commit()
    async with uow_factory() as uow:
        await uow.scope_to(_tenant_principal(a.id))
        assert await uow.agents.get(agent_b.id) is None
        assert await uow.tenants.get(b.id) is None
        assert all(x.tenant_id == a.id for x in await uow.agents.list(None, Page(limit=200)))
        # Writing into another tenant is refused, not silently done.
        with pytest.raises(NotFound):
            await _add_and_commit(uow, an_agent(b.id))


async def test_no_scope_sees_nothing(uow_factory: UnitOfWorkFactory) -> None:
    tenant, _, _ = await _seed_tenant(uow_factory)
    async with uow_factory() as uow:
        assert await uow.tenants.get(tenant.id) is None
        assert await uow.tenants.list(Page(limit=200)) == []
        assert await uow.agents.list(None, Page(limit=200)) == []


async def test_authenticate_scopes_to_the_keys_tenant(uow_factory: UnitOfWorkFactory) -> None:
    tenant, key, token = await _seed_tenant(uow_factory)
    async with uow_factory() as uow:
        principal = await uow.authenticate(hash_token(token))
        assert principal == Principal(key_id=key.id, tenant_id=tenant.id)
        assert await uow.tenants.get(tenant.id) is not None
    async with uow_factory() as uow:
        assert await uow.authenticate(hash_token(token + "x")) is None
        assert await uow.tenants.get(tenant.id) is None


async def test_operator_key_authenticates_as_operator(uow_factory: UnitOfWorkFactory) -> None:
    tenant, _, _ = await _seed_tenant(uow_factory)
    key, token = a_key(None)
    async with uow_factory() as uow:
        await uow.scope_to(CONSOLE_OPERATOR)
        await uow.api_keys.add(key)
        assert await uow.api_keys.count_operator_keys() >= 1
        await uow.commit()
    async with uow_factory() as uow:
        principal = await uow.authenticate(hash_token(token))
        assert principal is not None
        assert principal.is_operator
        assert await uow.tenants.get(tenant.id) is not None


async def test_revoked_key_stops_authenticating(uow_factory: UnitOfWorkFactory) -> None:
    tenant, key, token = await _seed_tenant(uow_factory)
    async with uow_factory() as uow:
        await uow.scope_to(_tenant_principal(tenant.id))
        listed = await uow.api_keys.list_for_tenant(tenant.id)
        assert [k.id for k in listed] == [key.id]
        assert listed[0].key_hash == b""  # hashes never leave storage
        assert await uow.api_keys.delete(key.id)
        await uow.commit()
    async with uow_factory() as uow:
        assert await uow.authenticate(hash_token(token)) is None


async def test_deleting_a_tenant_deletes_what_it_owns(uow_factory: UnitOfWorkFactory) -> None:
    tenant, _, token = await _seed_tenant(uow_factory)
    agent = an_agent(tenant.id)
    async with uow_factory() as uow:
        await uow.scope_to(CONSOLE_OPERATOR)
        await uow.agents.add(agent)
        await uow.commit()
    async with uow_factory() as uow:
        await uow.scope_to(CONSOLE_OPERATOR)
        assert await uow.tenants.delete(tenant.id)
        assert not await uow.tenants.delete(tenant.id)
        await uow.commit()
    async with uow_factory() as uow:
        await uow.scope_to(CONSOLE_OPERATOR)
        assert await uow.agents.get(agent.id) is None
        assert await uow.authenticate(hash_token(token)) is None


async def test_ticket_agent_is_cleared_when_the_agent_goes(uow_factory: UnitOfWorkFactory) -> None:
    tenant, _, _ = await _seed_tenant(uow_factory)
    agent = an_agent(tenant.id)
    async with uow_factory() as uow:
        await uow.scope_to(_tenant_principal(tenant.id))
        await uow.agents.add(agent)
        loaded = await uow.tenants.get(tenant.id)
        assert loaded is not None
        loaded.choose_ticket_agent(agent.id, loaded.updated_at)
        await uow.tenants.update(loaded)
        await uow.commit()
    async with uow_factory() as uow:
        await uow.scope_to(_tenant_principal(tenant.id))
        assert await uow.agents.delete(agent.id)
        await uow.commit()
    async with uow_factory() as uow:
        await uow.scope_to(_tenant_principal(tenant.id))
        reloaded = await uow.tenants.get(tenant.id)
        assert reloaded is not None
        assert reloaded.ticket_agent_id is None


async def test_pagination_is_stable_and_bounded(uow_factory: UnitOfWorkFactory) -> None:
    tenant, _, _ = await _seed_tenant(uow_factory)
    async with uow_factory() as uow:
        await uow.scope_to(_tenant_principal(tenant.id))
        for _ in range(5):
            await uow.agents.add(an_agent(tenant.id))
        await uow.commit()
    async with uow_factory() as uow:
        await uow.scope_to(_tenant_principal(tenant.id))
        everything = await uow.agents.list(tenant.id, Page(limit=200))
        first = await uow.agents.list(tenant.id, Page(limit=2))
        rest = await uow.agents.list(tenant.id, Page(limit=200, offset=2))
    assert len(everything) == 5
    assert [a.id for a in first + rest] == [a.id for a in everything]
