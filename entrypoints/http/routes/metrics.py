"""Prometheus text at /metrics: the operator key, unless AGENTKEEL_METRICS_PUBLIC=true."""

from typing import Any

from litestar import Request, Response, get

from application.use_cases.authenticate import Authenticate
from application.use_cases.metrics import CountExecutions
from domain.execution import ExecutionStatus
from entrypoints.http.dependencies import bearer_token, dependencies
from entrypoints.http.openapi import errors

Req = Request[Any, Any, Any]


def _gauge(name: str, help_text: str, samples: list[tuple[str, float]]) -> list[str]:
    lines = [f"# HELP {name} {help_text}", f"# TYPE {name} gauge"]
    lines += [f"{name}{labels} {value:g}" for labels, value in samples]
    return lines


@get(
    "/metrics",
    tags=["health"],
    summary="Prometheus metrics (the operator key, unless AGENTKEEL_METRICS_PUBLIC=true)",
    media_type="text/plain",
    security=[{"bearer": []}],
    responses=errors(401, 403, 503),
)
async def metrics(request: Req) -> Response[str]:
    deps = dependencies(request)
    if not deps.metrics_public:
        async with deps.uow_factory() as uow:
            (await Authenticate(uow)(bearer_token(request))).require_operator()
    async with deps.uow_factory() as uow:
        counts = await CountExecutions(uow)()
    checks = await deps.readiness()
    lines = _gauge(
        "agentkeel_executions",
        "Executions by status.",
        [(f'{{status="{s.value}"}}', counts.get(s.value, 0)) for s in ExecutionStatus],
    )
    lines += _gauge(
        "agentkeel_up",
        "1 when the dependency answers.",
        [
            (f'{{dependency="{name}"}}', float(state == "ok"))
            for name, state in checks.items()
            if name in ("database", "broker")
        ],
    )
    if checks.get("dead_letters", "").isdigit():
        lines += _gauge(
            "agentkeel_dead_letters",
            "Queued-execution messages that exhausted their retries.",
            [("", float(checks["dead_letters"]))],
        )
    return Response("\n".join(lines) + "\n", media_type="text/plain; version=0.0.4")


ROUTES = [metrics]
