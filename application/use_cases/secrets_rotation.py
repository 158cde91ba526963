"""Re-encrypt every stored secret under the current key, batch by batch.

Each batch is its own transaction, and rows are visited in id order, so a run that is
killed midway loses nothing: the next run skips what is already on the current key.
"""

import uuid
from collections.abc import Callable

from application.ports.secret_box import SecretBox
from application.ports.unit_of_work import UnitOfWorkFactory
from application.use_cases.gateway_binding import orphan_key_context
from application.use_cases.provider_secrets import needs_reseal, reseal
from domain.principal import CONSOLE_OPERATOR

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
                    if needs_reseal(self._box, secrets):
                        await uow.providers.update(provider, reseal(self._box, provider, secrets))
                        resealed += 1
                await uow.commit()
            if not batch:
                break
            seen += len(batch)
            after = batch[-1][0].id
            if self._progress is not None:
                self._progress(seen, resealed)
        return resealed + await self._rotate_orphans()

    async def _rotate_orphans(self) -> int:
        resealed = 0
        async with self._uow_factory() as uow:
            await uow.scope_to(CONSOLE_OPERATOR)
            for orphan in await uow.orphans.list(limit=100_000):
                secret = orphan.secret
                if secret is not None and self._box.needs_rotation(secret):
                    context = orphan_key_context(orphan)
                    orphan.secret = self._box.seal(self._box.open(secret, context), context)
                    await uow.orphans.update(orphan)
                    resealed += 1
            await uow.commit()
        return resealed
