"""BYOK providers: create, read, verify, rotate, delete; each all-or-nothing at the gateway."""

import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

from application.gateway_errors import GatewayError
from application.ports.llm_types import KeyInfo
from application.ports.orphan_repository import GatewayOrphan
from application.ports.unit_of_work import UnitOfWork
from application.use_cases.gateway_binding import Binding, bind, unbind
from application.use_cases.provider_secrets import (
    open_api_key,
    open_virtual_key,
    seal_provider_secrets,
)
from application.use_cases.services import LlmServices
from application.use_cases.tenants_access import require_tenant
from domain.errors import Conflict, DomainError, DuplicateName, NotFound
from domain.ids import new_id
from domain.principal import Principal
from domain.provider import LlmProvider, ProviderStatus, check_provider_key, key_hint


@dataclass(frozen=True, slots=True)
class NewProvider:
    provider_name: str
    api_key: str = field(repr=False)
    model: str = ""
    api_base: str | None = None
    max_budget: float | None = None


@dataclass(frozen=True, slots=True)
class ProviderWithKey:
    provider: LlmProvider
    virtual_key: str = field(repr=False)  # shown in this response only


async def get_provider(
    uow: UnitOfWork, principal: Principal, tenant_id: uuid.UUID, provider_id: uuid.UUID
) -> LlmProvider:
    await require_tenant(uow, principal, tenant_id)
    provider = await uow.providers.get(provider_id)
    if provider is None or provider.tenant_id != tenant_id:
        raise NotFound("Provider")
    return provider


async def _record_aside(
    services: LlmServices, principal: Principal, orphans: list[GatewayOrphan]
) -> None:
    """In a unit of work of their own: the request's one is rolling back or is over."""
    if not orphans:
        return
    async with services.uow_factory() as side:
        await side.scope_to(principal)
        for orphan in orphans:
            await side.orphans.add(orphan)
        await side.commit()


async def _bound_or_undone(
    services: LlmServices,
    principal: Principal,
    provider: LlmProvider,
    api_key: str,
    store: Callable[[Binding], Awaitable[None]],
) -> Binding:
    """Bind at the gateway, then store; if storing fails, unbind (or record orphans)."""

    async def leftover(deployment_id: str) -> None:
        orphan = GatewayOrphan(
            id=new_id(),
            tenant_id=provider.tenant_id,
            kind="deployment",
            reference=deployment_id,
            created_at=services.clock.now(),
            last_error="undo failed",
            attempts=1,
        )
        await _record_aside(services, principal, [orphan])

    binding = await bind(services.gateway, provider, api_key, leftover)
    try:
        await store(binding)
    except BaseException:
        orphans = await unbind(
            services.gateway, binding, provider.tenant_id, services.box, services.clock
        )
        await _record_aside(services, principal, orphans)
        raise
    return binding


class CreateProvider:
    def __init__(self, uow: UnitOfWork, services: LlmServices) -> None:
        self._uow, self._s = uow, services

    async def __call__(
        self, principal: Principal, tenant_id: uuid.UUID, new: NewProvider
    ) -> ProviderWithKey:
        await require_tenant(self._uow, principal, tenant_id)
        api_key = check_provider_key(new.api_key)
        now = self._s.clock.now()
        provider = LlmProvider(
            id=new_id(),
            tenant_id=tenant_id,
            provider_name=new.provider_name,
            model=new.model,
            key_hint=key_hint(api_key),
            created_at=now,
            updated_at=now,
            api_base=new.api_base,
            max_budget=new.max_budget,
        )
        if any(
            p.provider_name == provider.provider_name
            for p in await self._uow.providers.list(tenant_id)
        ):
            raise DuplicateName("A provider", " in this tenant")  # before touching the gateway

        async def store(binding: Binding) -> None:
            provider.deployment_id = binding.deployment_id
            provider.virtual_key_id = binding.virtual_key_id
            secrets = seal_provider_secrets(self._s.box, provider, api_key, binding.virtual_key)
            await self._uow.providers.add(provider, secrets)
            await self._uow.commit()

        binding = await _bound_or_undone(self._s, principal, provider, api_key, store)
        return ProviderWithKey(provider, binding.virtual_key)


class ListProviders:
    def __init__(self, uow: UnitOfWork) -> None:
        self._uow = uow

    async def __call__(self, principal: Principal, tenant_id: uuid.UUID) -> list[LlmProvider]:
        await require_tenant(self._uow, principal, tenant_id)
        return await self._uow.providers.list(tenant_id)


class VerifyProvider:
    def __init__(self, uow: UnitOfWork, services: LlmServices) -> None:
        self._uow, self._s = uow, services

    async def __call__(
        self, principal: Principal, tenant_id: uuid.UUID, provider_id: uuid.UUID
    ) -> KeyInfo:
        provider = await get_provider(self._uow, principal, tenant_id, provider_id)
        secrets = await self._uow.providers.secrets(provider_id)
        assert secrets is not None
        if provider.status is ProviderStatus.REVOKING:
            return KeyInfo(status="revoked", spend=0.0, max_budget=provider.max_budget)
        return await self._s.gateway.key_info(open_virtual_key(self._s.box, provider, secrets))


class RotateProvider:
    """New deployment and key, swap, then revoke the old ones before answering."""

    def __init__(self, uow: UnitOfWork, services: LlmServices) -> None:
        self._uow, self._s = uow, services

    async def __call__(
        self,
        principal: Principal,
        tenant_id: uuid.UUID,
        provider_id: uuid.UUID,
        new_api_key: str | None = None,
    ) -> ProviderWithKey:
        provider = await get_provider(self._uow, principal, tenant_id, provider_id)
        if not provider.is_active:
            raise NotFound("Provider")
        secrets = await self._uow.providers.secrets(provider_id)
        assert secrets is not None
        box = self._s.box
        api_key = (
            check_provider_key(new_api_key) if new_api_key else open_api_key(box, provider, secrets)
        )
        old = Binding(
            provider.deployment_id,
            open_virtual_key(box, provider, secrets),
            provider.virtual_key_id,
        )

        async def store(binding: Binding) -> None:
            provider.deployment_id = binding.deployment_id
            provider.virtual_key_id = binding.virtual_key_id
            provider.key_hint = key_hint(api_key)
            provider.updated_at = self._s.clock.now()
            sealed = seal_provider_secrets(box, provider, api_key, binding.virtual_key)
            # Only over the row as it was read: a plain update would resurrect a provider
            # being deleted, or drop a concurrent rotation's key without revoking it.
            if not await self._uow.providers.rebind(provider, sealed, old.virtual_key_id):
                raise await self._superseded(principal, tenant_id, provider_id, old)
            await self._uow.commit()

        binding = await _bound_or_undone(self._s, principal, provider, api_key, store)
        orphans = await unbind(self._s.gateway, old, tenant_id, box, self._s.clock)
        if orphans:
            await _record_aside(self._s, principal, orphans)
            raise OldKeyNotRevoked()
        return ProviderWithKey(provider, binding.virtual_key)

    async def _superseded(
        self, principal: Principal, tenant_id: uuid.UUID, provider_id: uuid.UUID, old: Binding
    ) -> DomainError:
        """The row was deleted, is being deleted or was rotated by another request since it
        was read. `_bound_or_undone` undoes the new binding; the old one is no row's any
        more, so revoke it too: whoever took the row over revokes it as well, and revoking
        twice is harmless where forgetting it would leak a live key."""
        orphans = await unbind(self._s.gateway, old, tenant_id, self._s.box, self._s.clock)
        await _record_aside(self._s, principal, orphans)
        current = await self._uow.providers.get(provider_id)
        if current is not None and current.is_active:
            return Conflict("The provider was rotated by another request meanwhile")
        return NotFound("Provider")


class OldKeyNotRevoked(GatewayError):
    """Rotation stored the new key, but the gateway did not revoke the old one (yet): it is
    recorded and `agentkeel providers reconcile` retries it."""
