"""Execution callbacks at submit time: the URL is checked, and a delivery is planned that
the worker makes once the execution ends. Also the JSON a callback carries."""

import json
from datetime import datetime
from typing import Any

from application.ports.clock import Clock
from application.ports.outbound import UrlGuard
from application.ports.unit_of_work import UnitOfWork
from domain.delivery import Delivery, DeliveryKind
from domain.errors import Refused
from domain.execution import Execution
from domain.ids import new_id

EVENT_TYPE = "execution.finished"


class CallbackPlanner:
    def __init__(self, guard: UrlGuard, clock: Clock) -> None:
        self._guard, self._clock = guard, clock

    async def check(self, url: str) -> None:
        """InvalidValue('callback_url') for an address the platform may not call."""
        await self._guard.check(url, "callback_url")

    async def plan(self, uow: UnitOfWork, execution: Execution) -> None:
        """Record the callback delivery with the execution (same transaction)."""
        assert execution.callback_url is not None
        now = self._clock.now()
        if not await uow.webhook_secrets.active(execution.tenant_id, now):
            raise Refused(
                "A callback is signed with the tenant's webhook secret: create one first "
                f"(POST /api/tenants/{execution.tenant_id}/webhook-secret)"
            )
        await uow.deliveries.add(
            Delivery(
                id=new_id(),
                tenant_id=execution.tenant_id,
                execution_id=execution.id,
                kind=DeliveryKind.CALLBACK,
                target=execution.callback_url,
                message_id=f"msg_{new_id().hex}",
                created_at=now,
            )
        )


def _iso(moment: datetime | None) -> str | None:
    return None if moment is None else moment.isoformat()


def execution_event(e: Execution) -> bytes:
    """The callback body: `{type, timestamp, data: <the execution as GET returns it>}`."""
    usage = e.usage
    data: dict[str, Any] = {
        "id": str(e.id),
        "agent_id": str(e.agent_id),
        "tenant_id": str(e.tenant_id),
        "status": e.status.value,
        "input": e.input,
        "output": e.output,
        "error": e.error,
        "usage": None
        if usage is None
        else {
            "prompt_tokens": usage.prompt_tokens,
            "completion_tokens": usage.completion_tokens,
            "total_tokens": usage.total_tokens,
        },
        "cost": e.cost,
        "model": e.model,
        "latency_ms": e.latency_ms,
        "created_at": _iso(e.created_at),
        "started_at": _iso(e.started_at),
        "finished_at": _iso(e.finished_at),
    }
    event = {"type": EVENT_TYPE, "timestamp": _iso(e.finished_at), "data": data}
    return json.dumps(event, ensure_ascii=False, separators=(",", ":")).encode()
