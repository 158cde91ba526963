"""Reading an execution's deliveries (callbacks, ticket write-backs) and their attempts."""

import uuid
from dataclasses import dataclass

from application.ports.unit_of_work import UnitOfWork
from application.use_cases.executions import GetExecution
from domain.delivery import Delivery, DeliveryAttempt, DeliveryKind
from domain.principal import Principal


@dataclass(frozen=True, slots=True)
class DeliveryRecord:
    delivery: Delivery
    attempts: list[DeliveryAttempt]


class ListDeliveries:
    def __init__(self, uow: UnitOfWork) -> None:
        self._uow = uow

    async def __call__(self, principal: Principal, execution_id: uuid.UUID) -> list[DeliveryRecord]:
        await GetExecution(self._uow)(principal, execution_id)  # 404 for another tenant's
        deliveries = await self._uow.deliveries.for_execution(execution_id)
        attempts = await self._uow.deliveries.attempts([d.id for d in deliveries])
        return [
            DeliveryRecord(d, [a for a in attempts if a.delivery_id == d.id]) for d in deliveries
        ]


async def ticket_write_back(uow: UnitOfWork, execution_id: uuid.UUID) -> Delivery | None:
    """The ticket write-back of an execution the caller was allowed to read, if any."""
    for delivery in await uow.deliveries.for_execution(execution_id):
        if delivery.kind is DeliveryKind.TICKET_WRITEBACK:
            return delivery
    return None
