"""Gateway orphans (keys and deployments no provider row owns, for `providers reconcile`):
the in-memory and SQL adapters behave alike."""

import uuid

from application.ports.secret_box import SealedSecret
from application.ports.unit_of_work import UnitOfWorkFactory
from tests.support.llm_helpers import an_orphan
from tests.support.scopes import OPERATOR, as_tenant, new_tenant, scoped


async def test_orphans_are_write_only_for_tenants(uow_factory: UnitOfWorkFactory) -> None:
    tenant_id = await new_tenant(uow_factory)
    orphan = an_orphan(tenant_id)
    async with scoped(uow_factory, as_tenant(tenant_id)) as uow:
        await uow.orphans.add(orphan)
        assert orphan.id not in {o.id for o in await uow.orphans.list(10_000)}
        await uow.commit()
    async with scoped(uow_factory, as_tenant(tenant_id)) as uow:
        assert await uow.orphans.list(10_000) == []
    async with scoped(uow_factory, OPERATOR) as uow:
        mine = [o for o in await uow.orphans.list(10_000) if o.id == orphan.id]
        assert mine == [orphan]
        orphan.attempts, orphan.last_error = 2, "GatewayUnavailable"
        await uow.orphans.update(orphan)
        await uow.commit()
    async with scoped(uow_factory, OPERATOR) as uow:
        assert [o for o in await uow.orphans.list(10_000) if o.id == orphan.id] == [orphan]
        await uow.orphans.delete(orphan.id)
        await uow.commit()
    async with scoped(uow_factory, OPERATOR) as uow:
        assert orphan.id not in {o.id for o in await uow.orphans.list(10_000)}


async def test_orphan_secret_is_replaced_only_if_unchanged(
    uow_factory: UnitOfWorkFactory,
) -> None:
    orphan = an_orphan(await new_tenant(uow_factory))
    old, resealed = orphan.secret, SealedSecret("k2", b"resealed")
    assert old is not None
    async with scoped(uow_factory, OPERATOR) as uow:
        await uow.orphans.add(orphan)
        await uow.commit()
    async with scoped(uow_factory, OPERATOR) as uow:
        orphan.attempts, orphan.last_error = 5, "GatewayUnavailable"  # reconcile, meanwhile
        await uow.orphans.update(orphan)
        await uow.commit()
    async with scoped(uow_factory, OPERATOR) as uow:
        assert not await uow.orphans.replace_secret(orphan.id, resealed, old)
        assert not await uow.orphans.replace_secret(uuid.uuid4(), old, resealed)
        assert await uow.orphans.replace_secret(orphan.id, old, resealed)
        await uow.commit()
    async with scoped(uow_factory, OPERATOR) as uow:
        [loaded] = [o for o in await uow.orphans.list(10_000) if o.id == orphan.id]
        assert (loaded.secret, loaded.attempts, loaded.last_error) == (
            resealed, 5, "GatewayUnavailable",
        )  # fmt: skip
        await uow.orphans.delete(orphan.id)
        await uow.commit()
