from typing import Any

from litestar import Request, Response, get

from entrypoints.http.dependencies import dependencies

Req = Request[Any, Any, Any]


@get("/health/live", tags=["health"], summary="The process is up")
async def live() -> dict[str, str]:
    return {"status": "ok"}


@get("/health/ready", tags=["health"], summary="Dependencies answer (database)")
async def ready(request: Req) -> Response[dict[str, Any]]:
    checks = await dependencies(request).readiness()
    if "unavailable" not in checks.values():
        return Response({"status": "ok", "checks": checks})
    return Response({"detail": "Not ready", "checks": checks}, status_code=503)


ROUTES = [live, ready]
