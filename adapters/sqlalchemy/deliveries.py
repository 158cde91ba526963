import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import insert, select, update

from adapters.sqlalchemy.errors import domain_errors
from adapters.sqlalchemy.executor import Executor
from adapters.sqlalchemy.tables import delivery_attempts as a
from adapters.sqlalchemy.tables import execution_deliveries as t
from adapters.sqlalchemy.tables import executions
from domain.delivery import Delivery, DeliveryAttempt

_FIELDS = (
    "id",
    "tenant_id",
    "execution_id",
    "target",
    "message_id",
    "attempts",
    "next_attempt_at",
    "last_error",
    "created_at",
    "updated_at",
    "activated_at",
)
_ENDED_EXECUTION = ("success", "failed", "cancelled", "timed_out")


def _values(d: Delivery) -> dict[str, Any]:
    return {
        **{name: getattr(d, name) for name in _FIELDS},
        "kind": d.kind.value,
        "status": d.status.value,
    }


def _delivery(row: Any) -> Delivery:
    return Delivery(
        **{name: getattr(row, name) for name in _FIELDS}, kind=row.kind, status=row.status
    )


def _attempt(row: Any) -> DeliveryAttempt:
    return DeliveryAttempt(**row._mapping)


class SqlDeliveryRepository:
    def __init__(self, conn: Executor) -> None:
        self._conn = conn

    async def add(self, delivery: Delivery) -> None:
        with domain_errors():
            await self._conn.execute(insert(t).values(_values(delivery)))

    async def get(self, delivery_id: uuid.UUID) -> Delivery | None:
        row = (await self._conn.execute(select(t).where(t.c.id == delivery_id))).first()
        return None if row is None else _delivery(row)

    async def for_execution(self, execution_id: uuid.UUID) -> list[Delivery]:
        statement = (
            select(t).where(t.c.execution_id == execution_id).order_by(t.c.created_at, t.c.id)
        )
        return [_delivery(row) for row in await self._conn.execute(statement)]

    async def attempts(self, delivery_ids: list[uuid.UUID]) -> list[DeliveryAttempt]:
        if not delivery_ids:
            return []
        statement = (
            select(a).where(a.c.delivery_id.in_(delivery_ids)).order_by(a.c.delivery_id, a.c.number)
        )
        return [_attempt(row) for row in await self._conn.execute(statement)]

    async def waiting_on_ended(self, limit: int) -> list[tuple[Delivery, bool]]:
        statement = (
            select(t, (executions.c.status == "success").label("succeeded"))
            .join(executions, executions.c.id == t.c.execution_id)
            .where(t.c.status == "waiting", executions.c.status.in_(_ENDED_EXECUTION))
            .limit(limit)
            .with_for_update(of=t, skip_locked=True)
        )
        return [
            (_delivery(row), bool(row.succeeded)) for row in await self._conn.execute(statement)
        ]

    async def due(self, now: datetime, limit: int) -> list[Delivery]:
        statement = (
            select(t)
            .where(t.c.status == "pending", t.c.next_attempt_at <= now)
            .order_by(t.c.next_attempt_at)
            .limit(limit)
            .with_for_update(skip_locked=True)
        )
        return [_delivery(row) for row in await self._conn.execute(statement)]

    async def update(self, delivery: Delivery, expected_attempts: int) -> bool:
        values = _values(delivery)
        for fixed in ("id", "tenant_id", "execution_id", "kind", "target", "message_id"):
            del values[fixed]
        statement = (
            update(t).where(t.c.id == delivery.id, t.c.attempts == expected_attempts).values(values)
        )
        return bool((await self._conn.execute(statement)).rowcount)

    async def add_attempt(self, attempt: DeliveryAttempt) -> None:
        values = {name: getattr(attempt, name) for name in DeliveryAttempt.__slots__}
        with domain_errors():
            await self._conn.execute(insert(a).values(values))
