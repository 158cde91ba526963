import uuid
from typing import Any

from litestar import Request, get
from litestar.params import FromPath

from application.use_cases.execution_deliveries import ListDeliveries
from entrypoints.http.dependencies import caller_scope
from entrypoints.http.schemas.webhooks import DeliveryOut

Req = Request[Any, Any, Any]


@get(
    "/api/executions/{execution_id:str}/deliveries",
    tags=["executions"],
    summary="The execution's callback and ticket write-back, with every attempt",
)
async def list_deliveries(request: Req, execution_id: FromPath[uuid.UUID]) -> list[DeliveryOut]:
    async with caller_scope(request) as (uow, principal, _):
        records = await ListDeliveries(uow)(principal, execution_id)
    return [DeliveryOut.of(r) for r in records]


ROUTES = [list_deliveries]
