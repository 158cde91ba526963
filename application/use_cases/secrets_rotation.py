"""Re-encrypt every stored secret under the current key, batch by batch.

Each batch is its own transaction, and rows are visited in id order, so a run that is
killed midway loses nothing: the next run skips what is already on the current key.
"""

import uuid
from collections.abc import Callable

from application.ports.mcp_server_repository import SealedEnv
from application.ports.provider_repository import ProviderSecrets
from application.ports.secret_box import SecretBox
from application.ports.unit_of_work import UnitOfWork, UnitOfWorkFactory
from application.use_cases.gateway_binding import orphan_key_context
from application.use_cases.mcp_secrets import env_needs_reseal, reseal_env
from application.use_cases.provider_secrets import needs_reseal, reseal
from application.use_cases.webhook_secrets_rotation import rotate_webhook_material
from domain.principal import CONSOLE_OPERATOR
from domain.provider import LlmProvider

Progress = Callable[[int, int], None]  # (rows looked at, secrets re-encrypted) so far


class RotateSecrets:
    def __init__(
        self,
        uow_factory: UnitOfWorkFactory,
        box: SecretBox,
        batch_size: int = 100,
        progress: Progress | None = None,
    ) -> None:
        self._uow_factory, self._box = uow_factory, box
        self._batch_size, self._progress = batch_size, progress

    async def __call__(self) -> int:
        seen = resealed = 0
        after: uuid.UUID | None = None
        while True:
            async with self._uow_factory() as uow:
                await uow.scope_to(CONSOLE_OPERATOR)
                batch = await uow.providers.list_sealed(after, self._batch_size)
                for provider, secrets in batch:
                    resealed += await self._reseal_provider(uow, provider, secrets)
                await uow.commit()
            if not batch:
                break
            seen += len(batch)
            after = batch[-1][0].id
            if self._progress is not None:
                self._progress(seen, resealed)
        resealed += await rotate_webhook_material(self._uow_factory, self._box, self._batch_size)
        return resealed + await self._rotate_orphans() + await self._rotate_mcp_servers()

    async def _reseal_provider(
        self, uow: UnitOfWork, provider: LlmProvider, secrets: ProviderSecrets
    ) -> int:
        """1 if resealed. Batches are read without locks (a lock held while a tenant's
        rotation waits on the row can deadlock), so the write is a compare-and-swap on the
        secrets read: a row rotated meanwhile is read again and its new secrets resealed,
        never its old ones written back."""
        current: ProviderSecrets | None = secrets
        while current is not None and needs_reseal(self._box, current):
            fresh = reseal(self._box, provider, current)
            if await uow.providers.replace_secrets(provider.id, current, fresh):
                return 1
            current = await uow.providers.secrets(provider.id)  # None: deleted meanwhile
        return 0

    async def _rotate_orphans(self) -> int:
        resealed = 0
        async with self._uow_factory() as uow:
            await uow.scope_to(CONSOLE_OPERATOR)
            for orphan in await uow.orphans.list(limit=100_000):
                secret = orphan.secret
                if secret is not None and self._box.needs_rotation(secret):
                    context = orphan_key_context(orphan)
                    fresh = self._box.seal(self._box.open(secret, context), context)
                    # An orphan's secret never changes otherwise: a miss means it was
                    # reconciled (deleted) or resealed by another run, so skip it. Only the
                    # secret is written: reconcile's attempts and last_error are kept.
                    if await uow.orphans.replace_secret(orphan.id, secret, fresh):
                        resealed += 1
            await uow.commit()
        return resealed

    async def _rotate_mcp_servers(self) -> int:
        """MCP servers' env_vars, batch by batch; a compare-and-swap as for providers."""
        resealed = 0
        after: uuid.UUID | None = None
        while True:
            async with self._uow_factory() as uow:
                await uow.scope_to(CONSOLE_OPERATOR)
                batch = await uow.mcp_servers.list_sealed(after, self._batch_size)
                for server, env in batch:
                    current: SealedEnv | None = env
                    while current is not None and env_needs_reseal(self._box, current):
                        fresh = reseal_env(self._box, server, current)
                        if await uow.mcp_servers.replace_env(server.id, current, fresh):
                            resealed += 1
                            break
                        current = await uow.mcp_servers.sealed_env(server.id)
                await uow.commit()
            if not batch:
                return resealed
            after = batch[-1][0].id
