"""Providers (and an execution's tenant): the in-memory and SQL adapters behave alike.
Executions themselves: test_execution_contract.py; gateway orphans: test_orphan_contract.py."""

import uuid
from datetime import timedelta

import pytest

from application.ports.provider_repository import ProviderSecrets
from application.ports.unit_of_work import UnitOfWork, UnitOfWorkFactory
from domain.errors import Conflict, NotFound, ProvidersRemain
from domain.provider import LlmProvider, ProviderStatus
from tests.support.factories import NOW, an_agent
from tests.support.llm_helpers import a_provider, an_execution, an_orphan, some_secrets
from tests.support.scopes import OPERATOR, as_tenant, new_tenant, scoped


async def stored(
    uow_factory: UnitOfWorkFactory, tenant_id: uuid.UUID, **kw: object
) -> tuple[LlmProvider, ProviderSecrets]:
    provider, secrets = a_provider(tenant_id, **kw), some_secrets()
    async with uow_factory() as uow:
        await uow.scope_to(as_tenant(tenant_id))
        await uow.providers.add(provider, secrets)
        await uow.commit()
    return provider, secrets


def fields(p: LlmProvider) -> tuple[object, ...]:
    return (p.tenant_id, p.provider_name, p.model, p.key_hint, p.created_at, p.updated_at,
            p.api_base, p.max_budget, p.status, p.deployment_id, p.virtual_key_id)  # fmt: skip


async def test_provider_round_trip(uow_factory: UnitOfWorkFactory) -> None:
    tenant_id = await new_tenant(uow_factory)
    provider, secrets = await stored(
        uow_factory, tenant_id, api_base="https://llm.example.com/v1", max_budget=12.5
    )
    async with uow_factory() as uow:
        await uow.scope_to(as_tenant(tenant_id))
        loaded = await uow.providers.get(provider.id)
        assert loaded is not None and fields(loaded) == fields(provider)
        assert await uow.providers.secrets(provider.id) == secrets
        assert [p.id for p in await uow.providers.list(tenant_id)] == [provider.id]
        assert [p.id for p in await uow.providers.list(None)] == [provider.id]
        assert await uow.providers.get(uuid.uuid4()) is None
        assert await uow.providers.secrets(uuid.uuid4()) is None


async def test_provider_update_with_and_without_secrets(uow_factory: UnitOfWorkFactory) -> None:
    tenant_id = await new_tenant(uow_factory)
    provider, secrets = await stored(uow_factory, tenant_id)
    provider.status, provider.key_hint = ProviderStatus.REVOKING, "...wxyz"
    provider.updated_at = NOW + timedelta(hours=1)
    async with uow_factory() as uow:
        await uow.scope_to(as_tenant(tenant_id))
        await uow.providers.update(provider)
        await uow.commit()
    fresh = some_secrets("k2")
    async with uow_factory() as uow:
        await uow.scope_to(as_tenant(tenant_id))
        loaded = await uow.providers.get(provider.id)
        assert loaded is not None and fields(loaded) == fields(provider)
        assert await uow.providers.secrets(provider.id) == secrets  # untouched
        loaded.deployment_id = "dep-new"
        await uow.providers.update(loaded, fresh)
        await uow.commit()
    async with uow_factory() as uow:
        await uow.scope_to(as_tenant(tenant_id))
        assert await uow.providers.secrets(provider.id) == fresh
        again = await uow.providers.get(provider.id)
        assert again is not None and again.deployment_id == "dep-new"


async def test_rebind_only_over_the_row_as_it_was_read(uow_factory: UnitOfWorkFactory) -> None:
    tenant_id = await new_tenant(uow_factory)
    provider, _ = await stored(uow_factory, tenant_id)
    held, fresh = provider.virtual_key_id, some_secrets("k2")
    rotated = a_provider(tenant_id, id=provider.id, provider_name=provider.provider_name)
    async with scoped(uow_factory, as_tenant(tenant_id)) as uow:
        assert not await uow.providers.rebind(rotated, fresh, "tok-someone-else")
        assert not await uow.providers.rebind(a_provider(tenant_id), fresh, held)  # no row
        assert await uow.providers.rebind(rotated, fresh, held)
        await uow.commit()
    async with scoped(uow_factory, as_tenant(tenant_id)) as uow:
        loaded = await uow.providers.get(provider.id)
        assert loaded is not None and fields(loaded) == fields(rotated)
        assert await uow.providers.secrets(provider.id) == fresh
        assert not await uow.providers.rebind(provider, some_secrets(), held)  # moved on
        loaded.status = ProviderStatus.REVOKING
        await uow.providers.update(loaded)
        await uow.commit()
    async with scoped(uow_factory, as_tenant(tenant_id)) as uow:  # being deleted
        assert not await uow.providers.rebind(rotated, some_secrets(), rotated.virtual_key_id)
        assert await uow.providers.secrets(provider.id) == fresh


async def test_mark_revoking_only_over_the_key_as_it_was_read(
    uow_factory: UnitOfWorkFactory,
) -> None:
    tenant_id = await new_tenant(uow_factory)
    provider, secrets = await stored(uow_factory, tenant_id)
    held, later = provider.virtual_key_id, NOW + timedelta(hours=1)
    async with scoped(uow_factory, as_tenant(await new_tenant(uow_factory))) as uow:
        assert not await uow.providers.mark_revoking(provider.id, held, later)  # invisible
    async with scoped(uow_factory, as_tenant(tenant_id)) as uow:
        assert not await uow.providers.mark_revoking(provider.id, "tok-rotated-since", later)
        assert not await uow.providers.mark_revoking(uuid.uuid4(), held, later)  # no row
        assert await uow.providers.mark_revoking(provider.id, held, later)
        await uow.commit()
    provider.status, provider.updated_at = ProviderStatus.REVOKING, later
    async with scoped(uow_factory, as_tenant(tenant_id)) as uow:
        loaded = await uow.providers.get(provider.id)
        assert loaded is not None and fields(loaded) == fields(provider)  # only those two
        assert await uow.providers.secrets(provider.id) == secrets
        assert await uow.providers.mark_revoking(provider.id, held, later)  # a retried delete


async def test_replace_secrets_only_if_unchanged(uow_factory: UnitOfWorkFactory) -> None:
    tenant_id = await new_tenant(uow_factory)
    provider, secrets = await stored(uow_factory, tenant_id)
    provider.status = ProviderStatus.REVOKING  # set meanwhile: replace_secrets keeps it
    async with scoped(uow_factory, as_tenant(tenant_id)) as uow:
        await uow.providers.update(provider)
        await uow.commit()
    resealed = some_secrets("k2")
    async with scoped(uow_factory, OPERATOR) as uow:
        assert not await uow.providers.replace_secrets(provider.id, some_secrets(), resealed)
        assert not await uow.providers.replace_secrets(uuid.uuid4(), secrets, resealed)
        assert await uow.providers.replace_secrets(provider.id, secrets, resealed)
        assert not await uow.providers.replace_secrets(provider.id, secrets, some_secrets())
        await uow.commit()
    async with scoped(uow_factory, as_tenant(tenant_id)) as uow:
        loaded = await uow.providers.get(provider.id)
        assert loaded is not None and fields(loaded) == fields(provider)
        assert await uow.providers.secrets(provider.id) == resealed


async def test_duplicate_provider_name_and_unknown_tenant(uow_factory: UnitOfWorkFactory) -> None:
    a, b = await new_tenant(uow_factory), await new_tenant(uow_factory)
    await stored(uow_factory, a, provider_name="anthropic")
    await stored(uow_factory, b, provider_name="anthropic")  # another tenant: fine
    async with uow_factory() as uow:
        await uow.scope_to(as_tenant(a))
        with pytest.raises(Conflict):
            await uow.providers.add(a_provider(a, provider_name="anthropic"), some_secrets())
    async with uow_factory() as uow:
        await uow.scope_to(OPERATOR)
        with pytest.raises(NotFound) as raised:
            await uow.providers.add(a_provider(uuid.uuid4()), some_secrets())
    assert raised.value.entity == "Tenant"


async def test_providers_of_another_tenant_are_invisible(uow_factory: UnitOfWorkFactory) -> None:
    a, b = await new_tenant(uow_factory), await new_tenant(uow_factory)
    theirs, _ = await stored(uow_factory, a)
    async with uow_factory() as uow:
        await uow.scope_to(as_tenant(b))
        assert await uow.providers.get(theirs.id) is None
        assert await uow.providers.secrets(theirs.id) is None
        assert await uow.providers.list(a) == []
        assert await uow.providers.list(None) == []
        assert await uow.providers.list_sealed(None, 1000) == []
        assert await uow.providers.delete(theirs.id) is False
        with pytest.raises(NotFound):  # writing into another tenant
            await uow.providers.add(a_provider(a, provider_name="groq"), some_secrets())
    async with uow_factory() as uow:
        await uow.scope_to(as_tenant(a))
        assert await uow.providers.get(theirs.id) is not None


async def test_deleting_a_provider_unlinks_its_agents(uow_factory: UnitOfWorkFactory) -> None:
    tenant_id = await new_tenant(uow_factory)
    provider, _ = await stored(uow_factory, tenant_id)
    agent = an_agent(tenant_id, use_byok=True, provider_id=provider.id)
    async with scoped(uow_factory, as_tenant(tenant_id)) as uow:
        await uow.agents.add(agent)
        await uow.commit()
    async with scoped(uow_factory, as_tenant(tenant_id)) as uow:
        assert await uow.providers.delete(provider.id) is True
        await uow.commit()
    async with scoped(uow_factory, as_tenant(tenant_id)) as uow:
        assert await uow.providers.get(provider.id) is None
        assert await uow.providers.delete(provider.id) is False
        loaded = await uow.agents.get(agent.id)
        assert loaded is not None
        assert (loaded.provider_id, loaded.use_byok) == (None, True)


async def test_list_sealed_pages_by_id(uow_factory: UnitOfWorkFactory) -> None:
    a, b = await new_tenant(uow_factory), await new_tenant(uow_factory)
    names = ("openai", "anthropic", "groq", "mistral")
    ours = {(await stored(uow_factory, t, provider_name=n))[0].id for t in (a, b) for n in names}
    seen: list[uuid.UUID] = []
    after = None
    while True:
        async with scoped(uow_factory, OPERATOR) as uow:
            page = await uow.providers.list_sealed(after, 3)
        assert len(page) <= 3
        if not page:
            break
        seen.extend(p.id for p, _ in page)
        after = page[-1][0].id
    assert seen == sorted(seen) and len(seen) == len(set(seen))
    assert ours <= set(seen)
    async with scoped(uow_factory, as_tenant(a)) as uow:
        mine = await uow.providers.list_sealed(None, 100)
        assert all(p.tenant_id == a for p, _ in mine) and len(mine) == 4
        for provider, secrets in mine:
            assert secrets == await uow.providers.secrets(provider.id)


async def test_a_tenant_with_providers_is_not_deleted(uow_factory: UnitOfWorkFactory) -> None:
    """Providers RESTRICT the tenant's delete: their gateway keys are revoked first."""
    tenant_id = await new_tenant(uow_factory)
    provider, _ = await stored(uow_factory, tenant_id)
    async with scoped(uow_factory, OPERATOR) as uow:
        with pytest.raises(ProvidersRemain):
            await uow.tenants.delete(tenant_id)
    async with scoped(uow_factory, OPERATOR) as uow:
        assert await uow.tenants.get(tenant_id) is not None
        assert await uow.providers.get(provider.id) is not None
        await uow.providers.delete(provider.id)
        assert await uow.tenants.delete(tenant_id) is True
        await uow.commit()


async def test_tenant_delete_cascades(uow_factory: UnitOfWorkFactory) -> None:
    tenant_id = await new_tenant(uow_factory)
    execution = an_execution(tenant_id, uuid.uuid4())
    async with scoped(uow_factory, OPERATOR) as uow:
        await uow.executions.add(execution)
        await uow.commit()
    async with scoped(uow_factory, OPERATOR) as uow:
        assert await uow.tenants.delete(tenant_id) is True
        await uow.commit()
    async with scoped(uow_factory, OPERATOR) as uow:
        assert await uow.executions.get(execution.id) is None

        async def add_and_commit() -> None:
            await uow.executions.add(an_execution(tenant_id, uuid.uuid4()))
            await uow.commit()

        with pytest.raises(NotFound):  # from add, or at the latest from the commit
            await add_and_commit()


async def test_writes_outside_the_scope_or_to_missing_rows_are_not_found(
    uow_factory: UnitOfWorkFactory,
) -> None:
    a, b = await new_tenant(uow_factory), await new_tenant(uow_factory)

    async def write(uow: UnitOfWork, what: str) -> None:
        if what == "orphan":
            await uow.orphans.add(an_orphan(b))  # another tenant's
        elif what == "provider":
            await uow.providers.update(a_provider(a))  # never added
        else:  # its NotFound may come as late as the commit
            await uow.executions.update(an_execution(a, uuid.uuid4()))  # never added
            await uow.commit()

    for what in ("orphan", "provider", "execution"):
        async with scoped(uow_factory, as_tenant(a)) as uow:
            with pytest.raises(NotFound):
                await write(uow, what)
