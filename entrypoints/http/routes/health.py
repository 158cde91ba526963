from typing import Any

from litestar import Request, Response, get
from litestar.openapi import ResponseSpec
from msgspec import Struct

from entrypoints.http.dependencies import dependencies

Req = Request[Any, Any, Any]


class ReadyOut(Struct):
    status: str
    checks: dict[str, str]


class NotReadyOut(Struct):
    detail: str
    checks: dict[str, str]


@get("/health/live", tags=["health"], summary="The process is up")
async def live() -> dict[str, str]:
    return {"status": "ok"}


@get(
    "/health/ready",
    tags=["health"],
    summary="Dependencies answer (database, broker)",
    responses={503: ResponseSpec(NotReadyOut, description="A dependency is down")},
)
async def ready(request: Req) -> Response[ReadyOut]:
    checks = await dependencies(request).readiness()
    if "unavailable" not in checks.values():
        return Response(ReadyOut("ok", checks))
    # The annotation documents the 200; the 503 and its body are in `responses`.
    return Response(NotReadyOut("Not ready", checks), status_code=503)  # type: ignore[arg-type]


ROUTES = [live, ready]
