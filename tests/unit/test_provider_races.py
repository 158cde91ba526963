"""Provider rotation and deletion racing each other, over the in-memory adapters: the
row and the gateway agree at the end, and no virtual key is left live unowned."""

import uuid

import pytest

from application.ports.llm_types import VirtualKey
from application.use_cases.provider_removal import DeleteProvider, ReconcileGateway
from application.use_cases.provider_secrets import open_virtual_key
from application.use_cases.providers import (
    ProviderWithKey,
    RotateProvider,
)
from domain.errors import Conflict, NotFound
from domain.provider import LlmProvider, ProviderStatus
from tests.support.provider_world import BOX, World, a_world


@pytest.fixture
def world() -> World:
    return a_world()


async def test_rotation_racing_a_delete_revokes_both_keys(world: World) -> None:
    old = await world.create()

    def concurrent_delete(method: str) -> None:
        if method == "create_virtual_key":  # committed while the new key is being minted
            world.store.providers.pop(old.provider.id, None)

    world.gateway.on_call = concurrent_delete
    with pytest.raises(NotFound):
        await RotateProvider(await world.scoped(), world.services)(
            world.tenant, world.tenant_id, old.provider.id
        )
    assert world.gateway.live_keys() == [] and world.gateway.registry.deployments == {}
    assert world.orphans() == [] and world.store.providers == {}


async def test_rotation_racing_a_delete_with_the_gateway_down_records_orphans(
    world: World,
) -> None:
    old = await world.create()

    def concurrent_delete(method: str) -> None:
        if method == "create_virtual_key":
            world.store.providers.pop(old.provider.id, None)
            world.gateway.down = {"revoke_key", "remove_deployment"}

    world.gateway.on_call = concurrent_delete
    with pytest.raises(NotFound):
        await RotateProvider(await world.scoped(), world.services)(
            world.tenant, world.tenant_id, old.provider.id
        )
    assert sorted(o.kind for o in world.orphans()) == ["deployment"] * 2 + ["virtual_key"] * 2
    world.gateway.on_call, world.gateway.down = None, set()
    await ReconcileGateway(world.uow(), world.services)()
    assert world.gateway.live_keys() == [] and world.gateway.registry.deployments == {}


async def test_losing_a_rotation_race_is_a_conflict_and_leaks_nothing(world: World) -> None:
    old = await world.create()
    winner: list[ProviderWithKey] = []
    mint, raced = world.gateway.create_virtual_key, False

    async def rotate() -> ProviderWithKey:
        return await RotateProvider(await world.scoped(), world.services)(
            world.tenant, world.tenant_id, old.provider.id
        )

    async def another_rotation_first(
        models: list[str], alias: str, max_budget: float | None, metadata: dict[str, str]
    ) -> VirtualKey:
        nonlocal raced
        if not raced:  # while the loser mints its key, the winner runs to the end
            raced = True
            winner.append(await rotate())
        return await mint(models, alias, max_budget, metadata)

    world.gateway.create_virtual_key = another_rotation_first  # type: ignore[method-assign]
    with pytest.raises(Conflict):
        await rotate()
    assert world.gateway.live_keys() == [winner[0].virtual_key]
    row = world.store.providers[old.provider.id]
    assert open_virtual_key(BOX, row.provider, row.secrets) == winner[0].virtual_key
    assert set(world.gateway.registry.deployments) == {row.provider.deployment_id}
    assert world.orphans() == []


async def test_delete_racing_a_rotation_revokes_the_key_the_row_holds(world: World) -> None:
    old = await world.create()
    delete_uow = await world.scoped()
    read = delete_uow.providers.get
    rotated: list[ProviderWithKey] = []

    async def rotation_commits_right_after_the_read(provider_id: uuid.UUID) -> LlmProvider | None:
        provider = await read(provider_id)
        if not rotated:  # between the delete's read and its mark, a rotation runs to the end
            rotated.append(
                await RotateProvider(await world.scoped(), world.services)(
                    world.tenant, world.tenant_id, old.provider.id
                )
            )
        return provider

    delete_uow.providers.get = rotation_commits_right_after_the_read  # type: ignore[method-assign]
    done = await DeleteProvider(delete_uow, world.services)(
        world.tenant, world.tenant_id, old.provider.id
    )
    assert done is True
    registry = world.gateway.registry
    assert registry.key_info(rotated[0].virtual_key).status == "revoked"
    assert world.gateway.live_keys() == [] and registry.deployments == {}
    assert world.orphans() == [] and world.store.providers == {}


async def test_delete_outrun_by_rotations_every_time_gives_up_writing_nothing(
    world: World,
) -> None:
    old = await world.create()
    delete_uow = await world.scoped()
    read = delete_uow.providers.get
    rotated: list[ProviderWithKey] = []

    async def a_rotation_after_every_read(provider_id: uuid.UUID) -> LlmProvider | None:
        provider = await read(provider_id)
        rotated.append(
            await RotateProvider(await world.scoped(), world.services)(
                world.tenant, world.tenant_id, old.provider.id
            )
        )
        return provider

    delete_uow.providers.get = a_rotation_after_every_read  # type: ignore[method-assign]
    with pytest.raises(Conflict):
        await DeleteProvider(delete_uow, world.services)(
            world.tenant, world.tenant_id, old.provider.id
        )
    assert 1 < len(rotated) < 10  # bounded
    row = world.store.providers[old.provider.id]  # still usable, on the latest key only
    assert row.provider.status is ProviderStatus.ACTIVE
    assert world.gateway.live_keys() == [rotated[-1].virtual_key]
    assert set(world.gateway.registry.deployments) == {row.provider.deployment_id}


async def test_rotation_after_a_delete_marked_the_row_is_refused(world: World) -> None:
    old = await world.create()
    mint = world.gateway.create_virtual_key

    async def delete_first(
        models: list[str], alias: str, max_budget: float | None, metadata: dict[str, str]
    ) -> VirtualKey:
        # While the rotation mints its key, a delete marks the row and cannot reach the
        # gateway: the row stays `revoking` with the old key.
        world.gateway.down = {"revoke_key", "remove_deployment"}
        done = await DeleteProvider(await world.scoped(), world.services)(
            world.tenant, world.tenant_id, old.provider.id
        )
        assert done is False
        world.gateway.down = set()
        return await mint(models, alias, max_budget, metadata)

    world.gateway.create_virtual_key = delete_first  # type: ignore[method-assign]
    with pytest.raises(NotFound):
        await RotateProvider(await world.scoped(), world.services)(
            world.tenant, world.tenant_id, old.provider.id
        )
    row = world.store.providers[old.provider.id]  # untouched by the refused rotation
    assert row.provider.status is ProviderStatus.REVOKING
    assert open_virtual_key(BOX, row.provider, row.secrets) == old.virtual_key
    assert world.gateway.live_keys() == [] and world.gateway.registry.deployments == {}
    report = await ReconcileGateway(world.uow(), world.services)()
    assert (report.removed, report.still_failing) == (1, 0)
    assert world.store.providers == {} and world.orphans() == []
    assert world.gateway.live_keys() == [] and world.gateway.registry.deployments == {}
