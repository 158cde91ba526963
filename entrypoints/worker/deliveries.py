"""The worker's delivery side: the adapters a delivery attempt needs, built per process."""

from collections.abc import Awaitable, Callable
from datetime import timedelta

from adapters.dramatiq_queue.queue import DramatiqJobQueue
from adapters.system import SystemClock
from adapters.tickets.factory import HttpTicketSystems
from adapters.webhooks.callbacks import HttpCallbackSender
from application.ports.secret_box import SecretBox
from application.ports.unit_of_work import UnitOfWorkFactory
from application.use_cases.deliveries import DeliveryServices
from domain.delivery import callback_policy, writeback_policy
from entrypoints.settings import Settings


def delivery_services(
    settings: Settings, uow_factory: UnitOfWorkFactory, box: SecretBox, queue: DramatiqJobQueue
) -> tuple[DeliveryServices, list[Callable[[], Awaitable[None]]]]:
    """The services, and what to close at shutdown (their HTTP clients)."""
    allow = settings.allow_private_callbacks
    sender, tickets = (
        HttpCallbackSender(allow_private=allow),
        HttpTicketSystems(allow_private=allow),
    )
    first = timedelta(seconds=settings.delivery_first_retry_s)
    services = DeliveryServices(
        uow_factory=uow_factory,
        clock=SystemClock(),
        box=box,
        queue=queue,
        sender=sender,
        tickets=tickets,
        callbacks=callback_policy(first),
        writebacks=writeback_policy(first),
    )
    return services, [sender.aclose, tickets.aclose]
