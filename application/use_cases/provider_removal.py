"""Removing providers: revocation at the gateway is retried until it succeeds, never dropped."""

import logging
import uuid
from dataclasses import dataclass

from application.errors import SecretUnreadable
from application.gateway_errors import GatewayError
from application.ports.orphan_repository import GatewayOrphan
from application.ports.unit_of_work import UnitOfWork
from application.use_cases.gateway_binding import Binding, orphan_key_context, unbind
from application.use_cases.provider_secrets import open_virtual_key
from application.use_cases.providers import get_provider
from application.use_cases.services import LlmServices
from domain.errors import Conflict, NotFound
from domain.principal import CONSOLE_OPERATOR, Principal
from domain.provider import LlmProvider, ProviderStatus

log = logging.getLogger("agentkeel.providers")
# Each miss means a rotation committed in between, a run of gateway round trips: more than
# a few in a row is a client rotating in a loop, not a race worth waiting out.
_MARK_ATTEMPTS = 5


async def _binding(uow: UnitOfWork, services: LlmServices, provider: LlmProvider) -> Binding:
    secrets = await uow.providers.secrets(provider.id)
    assert secrets is not None
    return Binding(
        provider.deployment_id,
        open_virtual_key(services.box, provider, secrets),
        provider.virtual_key_id,
    )


async def _mark_revoking(
    uow: UnitOfWork, services: LlmServices, provider: LlmProvider
) -> Binding | None:
    """Mark the row of `provider` (as read) `revoking` and return the binding it holds
    then, the one to revoke; None when the row is gone (whoever deleted it revokes it).
    The mark only lands on the row as it was read: a rotation committed in between
    has moved it to a new key, which must be revoked instead of the one read, so read
    again. Once marked, no rotation can move it (`rebind` refuses a `revoking` row)."""
    for attempt in range(_MARK_ATTEMPTS):
        if attempt:  # missed: read the row again, as the rotation left it
            again = await uow.providers.get(provider.id)
            if again is None:
                return None
            provider = again
        binding = await _binding(uow, services, provider)
        held, now = provider.virtual_key_id, services.clock.now()
        if await uow.providers.mark_revoking(provider.id, held, now):
            return binding
    # Nothing written: the row keeps its current key, live and owned, until a retry.
    raise Conflict("The provider kept being rotated meanwhile; try again")


class DeleteProvider:
    """True when the provider is gone; False when the gateway could not be reached and the
    provider stays `revoking` until `agentkeel providers reconcile` finishes it."""

    def __init__(self, uow: UnitOfWork, services: LlmServices) -> None:
        self._uow, self._s = uow, services

    async def __call__(
        self, principal: Principal, tenant_id: uuid.UUID, provider_id: uuid.UUID
    ) -> bool:
        # Mark first: whatever happens next, the provider can no longer be used.
        provider = await get_provider(self._uow, principal, tenant_id, provider_id)
        binding = await _mark_revoking(self._uow, self._s, provider)
        if binding is None:
            raise NotFound("Provider")  # deleted by another request since it was read
        await self._uow.commit()
        failed = await unbind(self._s.gateway, binding, tenant_id, self._s.box, self._s.clock)
        if failed:
            return False
        async with self._s.uow_factory() as uow:
            await uow.scope_to(principal)
            await uow.providers.delete(provider_id)
            await uow.commit()
        return True


async def mark_all_revoking(
    uow: UnitOfWork, services: LlmServices, tenant_id: uuid.UUID
) -> list[Binding]:
    """For tenant deletion, step one: mark every provider of the tenant `revoking` in
    `uow` and return the bindings to revoke once the caller has committed the marks.
    On Conflict (a provider kept being rotated) the caller commits nothing, and nothing
    has been revoked yet: the tenant is left whole, not half-deleted."""
    bindings: list[Binding] = []
    for provider in await uow.providers.list(tenant_id):
        binding = await _mark_revoking(uow, services, provider)
        if binding is not None:
            bindings.append(binding)
    return bindings


async def revoke_all(
    services: LlmServices, tenant_id: uuid.UUID, bindings: list[Binding]
) -> list[GatewayOrphan]:
    """Step two, with the marks committed: revoke every binding; what the gateway refused
    comes back as orphans, for the caller to record."""
    orphans: list[GatewayOrphan] = []
    for binding in bindings:
        orphans += await unbind(services.gateway, binding, tenant_id, services.box, services.clock)
    return orphans


@dataclass(frozen=True, slots=True)
class ReconcileReport:
    removed: int
    still_failing: int


class ReconcileGateway:
    """Retry what the gateway refused: revoking providers and recorded orphans."""

    def __init__(self, uow: UnitOfWork, services: LlmServices) -> None:
        self._uow, self._s = uow, services

    async def __call__(self, limit: int = 500) -> ReconcileReport:
        await self._uow.scope_to(CONSOLE_OPERATOR)
        removed = failing = 0
        for provider in await self._uow.providers.list(None):
            if provider.status is not ProviderStatus.REVOKING:
                continue
            try:
                binding = await _binding(self._uow, self._s, provider)
            except SecretUnreadable:
                log.error(
                    "provider %s: its virtual key cannot be unsealed with the "
                    "configured keys; left for an operator",
                    provider.id,
                )
                failing += 1
                continue
            if await unbind(
                self._s.gateway, binding, provider.tenant_id, self._s.box, self._s.clock
            ):
                failing += 1
            else:
                await self._uow.providers.delete(provider.id)
                removed += 1
        for orphan in await self._uow.orphans.list(limit):
            try:
                if orphan.kind == "virtual_key" and orphan.secret is not None:
                    key = self._s.box.open(orphan.secret, orphan_key_context(orphan))
                    await self._s.gateway.revoke_key(key.decode())
                else:
                    await self._s.gateway.remove_deployment(orphan.reference)
            except (GatewayError, SecretUnreadable) as exc:
                # One bad orphan must not stop the others from being cleaned up.
                orphan.attempts += 1
                orphan.last_error = type(exc).__name__
                await self._uow.orphans.update(orphan)
                failing += 1
            else:
                await self._uow.orphans.delete(orphan.id)
                removed += 1
        await self._uow.commit()
        return ReconcileReport(removed, failing)
