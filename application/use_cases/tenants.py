"""Tenant lifecycle. Creating, listing all and deleting tenants is the operator's job."""

import uuid
from dataclasses import dataclass

from application.ports.clock import Clock
from application.ports.orphan_repository import GatewayOrphan
from application.ports.page import Page
from application.ports.token_generator import TokenGenerator
from application.ports.unit_of_work import UnitOfWork
from application.use_cases.api_keys import new_tenant_key
from application.use_cases.provider_removal import mark_all_revoking, revoke_all
from application.use_cases.services import LlmServices
from application.use_cases.tenants_access import require_tenant
from domain.errors import Conflict, Forbidden, InvalidValue, NotFound, ProvidersRemain
from domain.ids import new_id
from domain.principal import Principal
from domain.provider import ProviderStatus
from domain.tenant import Tenant


@dataclass(frozen=True, slots=True)
class CreatedTenant:
    tenant: Tenant
    api_key: str  # the first tenant key, in clear: shown once, never stored


class CreateTenant:
    def __init__(self, uow: UnitOfWork, clock: Clock, tokens: TokenGenerator) -> None:
        self._uow, self._clock, self._tokens = uow, clock, tokens

    async def __call__(self, principal: Principal, name: str, admin_email: str) -> CreatedTenant:
        principal.require_operator()
        now = self._clock.now()
        tenant = Tenant(
            id=new_id(), name=name, admin_email=admin_email, created_at=now, updated_at=now
        )
        await self._uow.tenants.add(tenant)
        key, token = new_tenant_key(tenant.id, "default", now, self._tokens)
        await self._uow.api_keys.add(key)
        await self._uow.commit()
        return CreatedTenant(tenant, token)


class ListTenants:
    def __init__(self, uow: UnitOfWork) -> None:
        self._uow = uow

    async def __call__(self, principal: Principal, page: Page) -> list[Tenant]:
        if principal.tenant_id is None:
            return await self._uow.tenants.list(page)
        own = await self._uow.tenants.get(principal.tenant_id)
        return [own] if own is not None and page.offset == 0 else []


class GetTenant:
    def __init__(self, uow: UnitOfWork) -> None:
        self._uow = uow

    async def __call__(self, principal: Principal, tenant_id: uuid.UUID) -> Tenant:
        return await require_tenant(self._uow, principal, tenant_id)


@dataclass(frozen=True, slots=True)
class TenantChanges:
    name: str | None = None
    admin_email: str | None = None
    ticket_agent_id: uuid.UUID | None = None
    # ticket_agent_id may be set to null; None above cannot say "clear it".
    clear_ticket_agent: bool = False


class UpdateTenant:
    def __init__(self, uow: UnitOfWork, clock: Clock) -> None:
        self._uow, self._clock = uow, clock

    async def __call__(
        self, principal: Principal, tenant_id: uuid.UUID, changes: TenantChanges
    ) -> Tenant:
        tenant = await GetTenant(self._uow)(principal, tenant_id)
        now = self._clock.now()
        if changes.name is not None:
            if not principal.is_operator:
                raise Forbidden("Only the operator may rename a tenant")
            tenant.rename(changes.name, now)
        if changes.admin_email is not None:
            tenant.change_admin_email(changes.admin_email, now)
        if changes.clear_ticket_agent:
            tenant.choose_ticket_agent(None, now)
        elif changes.ticket_agent_id is not None:
            agent = await self._uow.agents.get(changes.ticket_agent_id)
            if agent is None or agent.tenant_id != tenant.id:
                raise InvalidValue("ticket_agent_id", "is not an agent of this tenant")
            tenant.choose_ticket_agent(agent.id, now)
        await self._uow.tenants.update(tenant)
        await self._uow.commit()
        return tenant


class DeleteTenant:
    """Revokes the tenant's virtual keys at the gateway, then deletes everything it owns.

    Its providers are marked `revoking`, and that is committed, before any revocation: a
    rotation racing the delete either moved its key before the mark (the new key is then
    the one revoked) or is refused by it and undoes its own binding, so no key outlives
    its row. What the gateway refused is recorded as orphans with the delete; should the
    delete stop between the two commits, the providers stay `revoking` for
    `agentkeel providers reconcile` and the delete can be retried.

    A provider created meanwhile (after the marks) is not deleted with the tenant: the
    database refuses (ProvidersRemain), so its key is marked and revoked in another round;
    one created after the tenant row is gone fails and undoes its own binding."""

    ROUNDS = 3  # each round is a provider created mid-delete: more is a client in a loop

    def __init__(self, uow: UnitOfWork, providers: LlmServices) -> None:
        self._uow, self._providers = uow, providers

    async def __call__(self, principal: Principal, tenant_id: uuid.UUID) -> None:
        if not principal.is_operator:
            # A tenant may see itself but never delete itself; others' existence stays hidden.
            principal.require_access(tenant_id, "Tenant")
            raise Forbidden("Only the operator may delete a tenant")
        if await self._uow.tenants.get(tenant_id) is None:
            raise NotFound("Tenant")
        services = self._providers
        bindings = await mark_all_revoking(self._uow, services, tenant_id)
        await self._uow.commit()
        for _ in range(self.ROUNDS):
            # Committed before the gateway calls, as for one provider: no transaction (nor
            # the marks' row locks, on which a racing rotation's `rebind` would wait) is
            # held across them.
            orphans = await revoke_all(services, tenant_id, bindings)
            async with services.uow_factory() as uow:
                await uow.scope_to(principal)
                try:
                    await self._delete(uow, tenant_id, orphans)
                    await uow.commit()
                    return
                except ProvidersRemain:
                    pass  # rolled back: the revoked providers stay `revoking`, nothing lost
            async with services.uow_factory() as uow:
                await uow.scope_to(principal)
                bindings = await mark_all_revoking(uow, services, tenant_id)
                await uow.commit()
        raise Conflict("Providers kept being added to the tenant while it was being deleted")

    @staticmethod
    async def _delete(uow: UnitOfWork, tenant_id: uuid.UUID, orphans: list[GatewayOrphan]) -> None:
        for orphan in orphans:  # what the gateway refused, for `providers reconcile`
            await uow.orphans.add(orphan)
        for provider in await uow.providers.list(tenant_id):
            if provider.status is ProviderStatus.REVOKING:  # marked and revoked above
                await uow.providers.delete(provider.id)
        await uow.tenants.delete(tenant_id)
