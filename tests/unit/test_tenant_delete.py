"""Tenant deletion with BYOK providers: every gateway key is revoked, whatever races it."""

import uuid
from datetime import datetime

import pytest

from application.ports.llm_types import VirtualKey
from application.use_cases.providers import ProviderWithKey, RotateProvider
from application.use_cases.tenants import DeleteTenant
from domain.errors import Conflict, NotFound
from domain.principal import CONSOLE_OPERATOR
from domain.provider import LlmProvider, ProviderStatus
from tests.support.provider_world import World, a_world


@pytest.fixture
def world() -> World:
    return a_world()


async def test_tenant_delete_revokes_every_key_or_records_it(world: World) -> None:
    made = [await world.create(provider_name=n) for n in ("openai", "anthropic", "groq")]
    world.gateway.down = {"remove_deployment"}  # keys revoke fine, deployments do not
    await DeleteTenant(await world.scoped(CONSOLE_OPERATOR), world.services)(
        CONSOLE_OPERATOR, world.tenant_id
    )
    assert world.store.tenants == {} and world.store.providers == {}
    assert world.gateway.live_keys() == []
    orphans = world.orphans()
    assert {o.reference for o in orphans} == {m.provider.deployment_id for m in made}
    assert {o.kind for o in orphans} == {"deployment"}


async def test_tenant_delete_racing_a_rotation_revokes_the_key_the_row_holds(
    world: World,
) -> None:
    made = [await world.create(provider_name=n) for n in ("openai", "anthropic")]
    delete_uow = await world.scoped(CONSOLE_OPERATOR)
    listed = delete_uow.providers.list
    rotated: list[ProviderWithKey] = []

    async def rotation_commits_right_after_the_read(
        tenant_id: uuid.UUID | None,
    ) -> list[LlmProvider]:
        providers = await listed(tenant_id)
        # Between the delete's read of the providers and their revocation, a rotation
        # of one of them runs to the end.
        rotated.append(
            await RotateProvider(await world.scoped(), world.services)(
                world.tenant, world.tenant_id, made[1].provider.id
            )
        )
        return providers

    delete_uow.providers.list = rotation_commits_right_after_the_read  # type: ignore[method-assign]
    await DeleteTenant(delete_uow, world.services)(CONSOLE_OPERATOR, world.tenant_id)
    registry = world.gateway.registry
    assert registry.key_info(rotated[0].virtual_key).status == "revoked"
    assert world.gateway.live_keys() == [] and registry.deployments == {}
    assert world.store.tenants == {} and world.store.providers == {}
    assert world.orphans() == []


async def test_rotation_after_a_tenant_delete_marked_its_providers_is_refused(
    world: World,
) -> None:
    made = await world.create()
    mint = world.gateway.create_virtual_key

    async def tenant_delete_first(
        models: list[str], alias: str, max_budget: float | None, metadata: dict[str, str]
    ) -> VirtualKey:
        # While the rotation mints its key, the whole tenant delete runs.
        await DeleteTenant(await world.scoped(CONSOLE_OPERATOR), world.services)(
            CONSOLE_OPERATOR, world.tenant_id
        )
        return await mint(models, alias, max_budget, metadata)

    world.gateway.create_virtual_key = tenant_delete_first  # type: ignore[method-assign]
    with pytest.raises(NotFound):
        await RotateProvider(await world.scoped(), world.services)(
            world.tenant, world.tenant_id, made.provider.id
        )
    assert world.gateway.live_keys() == [] and world.gateway.registry.deployments == {}
    assert world.store.tenants == {} and world.store.providers == {}
    assert world.orphans() == []


async def test_tenant_delete_outrun_by_rotations_is_a_conflict_and_deletes_nothing(
    world: World,
) -> None:
    made = [await world.create(provider_name=n) for n in ("openai", "anthropic")]
    delete_uow = await world.scoped(CONSOLE_OPERATOR)
    mark = delete_uow.providers.mark_revoking
    rotated: list[ProviderWithKey] = []

    async def a_rotation_before_every_mark(
        provider_id: uuid.UUID, held_key_id: str, at: datetime
    ) -> bool:
        if provider_id == made[1].provider.id:  # the first provider is marked meanwhile
            rotated.append(
                await RotateProvider(await world.scoped(), world.services)(
                    world.tenant, world.tenant_id, provider_id
                )
            )
        return await mark(provider_id, held_key_id, at)

    delete_uow.providers.mark_revoking = a_rotation_before_every_mark  # type: ignore[method-assign]
    with pytest.raises(Conflict):
        await DeleteTenant(delete_uow, world.services)(CONSOLE_OPERATOR, world.tenant_id)
    assert 1 < len(rotated) < 10  # bounded
    # Nothing half-deleted: the tenant and every provider stay, usable, nothing revoked.
    assert world.tenant_id in world.store.tenants
    rows = [world.store.providers[m.provider.id] for m in made]
    assert [r.provider.status for r in rows] == [ProviderStatus.ACTIVE] * 2
    live = {made[0].virtual_key, rotated[-1].virtual_key}
    assert set(world.gateway.live_keys()) == live
    assert set(world.gateway.registry.deployments) == {r.provider.deployment_id for r in rows}


def provider_created_at_each_revocation(world: World, times: int) -> list[ProviderWithKey]:
    """Between the delete's marks and its final delete, a tenant key creates a provider:
    `times` times, at the first revocations of each round."""
    revoke, made = world.gateway.revoke_key, list[ProviderWithKey]()
    names = iter(("anthropic", "groq", "mistral", "cohere"))  # provider names are unique

    async def create_then_revoke(key: str) -> None:
        if len(made) < times and key not in {m.virtual_key for m in made}:
            made.append(await world.create(provider_name=next(names)))
        await revoke(key)

    world.gateway.revoke_key = create_then_revoke  # type: ignore[method-assign]
    return made


async def test_a_provider_created_during_the_delete_is_revoked_too(world: World) -> None:
    first = await world.create()
    late = provider_created_at_each_revocation(world, times=1)
    await DeleteTenant(await world.scoped(CONSOLE_OPERATOR), world.services)(
        CONSOLE_OPERATOR, world.tenant_id
    )
    [created] = late
    registry = world.gateway.registry
    for made in (first, created):
        assert registry.key_info(made.virtual_key).status == "revoked"
    assert world.gateway.live_keys() == [] and registry.deployments == {}
    assert world.store.tenants == {} and world.store.providers == {}


async def test_providers_added_in_every_round_end_in_a_conflict_with_no_live_key_lost(
    world: World,
) -> None:
    await world.create()
    late = provider_created_at_each_revocation(world, times=DeleteTenant.ROUNDS)
    with pytest.raises(Conflict):
        await DeleteTenant(await world.scoped(CONSOLE_OPERATOR), world.services)(
            CONSOLE_OPERATOR, world.tenant_id
        )
    assert world.tenant_id in world.store.tenants  # retried later, nothing half-deleted
    # Every live key still has its provider row, which a retry or `providers reconcile`
    # revokes: none went with a deleted row.
    rows = {r.provider.virtual_key_id for r in world.store.providers.values()}
    registry = world.gateway.registry
    live_ids = {registry.keys[k].token_id for k in world.gateway.live_keys()}
    assert live_ids <= rows and len(world.store.providers) == 1 + len(late)
