"""`agentkeel secrets rotate` for webhook secrets and ticket-system credentials: each row
re-sealed under the current key, in id-ordered batches, with a compare-and-swap (a row
changed meanwhile is skipped: it was sealed anew, under the current key, by that change)."""

from application.ports.secret_box import SecretBox
from application.ports.unit_of_work import UnitOfWorkFactory
from application.use_cases.delivery_targets import credentials_context
from application.use_cases.webhook_secrets import webhook_secret_context
from domain.principal import CONSOLE_OPERATOR


async def rotate_webhook_secrets(uow_factory: UnitOfWorkFactory, box: SecretBox, batch: int) -> int:
    resealed, after = 0, None
    while True:
        async with uow_factory() as uow:
            await uow.scope_to(CONSOLE_OPERATOR)
            rows = await uow.webhook_secrets.list_sealed(after, batch)
            for row in rows:
                if box.needs_rotation(row.sealed):
                    context = webhook_secret_context(row.tenant_id, row.id)
                    fresh = box.seal(box.open(row.sealed, context), context)
                    resealed += await uow.webhook_secrets.replace_secret(row.id, row.sealed, fresh)
            await uow.commit()
        if not rows:
            return resealed
        after = rows[-1].id


async def rotate_ticket_credentials(
    uow_factory: UnitOfWorkFactory, box: SecretBox, batch: int
) -> int:
    resealed, after = 0, None
    while True:
        async with uow_factory() as uow:
            await uow.scope_to(CONSOLE_OPERATOR)
            rows = await uow.ticket_systems.list_sealed(after, batch)
            for config, sealed in rows:
                if box.needs_rotation(sealed):
                    context = credentials_context(config)
                    fresh = box.seal(box.open(sealed, context), context)
                    resealed += await uow.ticket_systems.replace_secret(config.id, sealed, fresh)
            await uow.commit()
        if not rows:
            return resealed
        after = rows[-1][0].id


async def rotate_webhook_material(
    uow_factory: UnitOfWorkFactory, box: SecretBox, batch: int
) -> int:
    return await rotate_webhook_secrets(uow_factory, box, batch) + await rotate_ticket_credentials(
        uow_factory, box, batch
    )
