import uuid
from datetime import datetime
from typing import Protocol

from domain.delivery import Delivery, DeliveryAttempt


class DeliveryRepository(Protocol):
    """The deliveries of executions (callbacks, ticket write-backs) and their attempts."""

    async def add(self, delivery: Delivery) -> None: ...

    async def get(self, delivery_id: uuid.UUID) -> Delivery | None: ...

    async def for_execution(self, execution_id: uuid.UUID) -> list[Delivery]:
        """Oldest first."""
        ...

    async def attempts(self, delivery_ids: list[uuid.UUID]) -> list[DeliveryAttempt]:
        """Every attempt of these deliveries, by delivery and number."""
        ...

    async def waiting_on_ended(self, limit: int) -> list[tuple[Delivery, bool]]:
        """Waiting deliveries whose execution has ended, each with whether it succeeded;
        locked, skipping rows another transaction holds."""
        ...

    async def due(self, now: datetime, limit: int) -> list[Delivery]:
        """Pending deliveries whose next attempt time passed; locked, skipping held rows."""
        ...

    async def update(self, delivery: Delivery, expected_attempts: int) -> bool:
        """Save, only if the stored row still has `expected_attempts` (compare-and-swap:
        a second worker holding a stale copy writes nothing and gets False)."""
        ...

    async def add_attempt(self, attempt: DeliveryAttempt) -> None: ...
