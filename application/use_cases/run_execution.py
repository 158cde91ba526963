"""The worker's side of a queued execution: claim, call the gateway under a lease, record.

The gateway's answer is streamed, its deltas published to the execution's event log as they
come (with the status changes), for GET /api/executions/{id}/events; what is stored is
the same as for an unstreamed call.

Delivery is at least once, so every step is safe to repeat: a message whose execution is
finished, cancelled or held by a live worker does nothing; the result is stored only by
the worker that still holds the lease (first writer wins), so it is stored once.
"""

import asyncio
import logging
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import timedelta

from application.gateway_errors import GatewayError, GatewayTimeout
from application.ports.llm_stream import ChatDelta
from application.ports.llm_types import ChatRequest, ChatResult
from application.use_cases.delta_relay import DeltaRelay
from application.use_cases.execution_events import done_data, status_data
from application.use_cases.executions import chat_request, route_for, tools_for
from application.use_cases.services import LlmServices
from application.use_cases.tool_loop import ToolLoop
from application.use_cases.toolset import Toolset
from domain.errors import LeaseLost, Refused
from domain.execution import Execution, TokenUsage
from domain.principal import Principal
from domain.tool_call import ToolCallRecord

log = logging.getLogger("agentkeel.worker")


@dataclass(frozen=True, slots=True)
class Lease:
    """How long a claim lasts without a heartbeat, and how often the worker renews it (and
    looks for a cancel request)."""

    duration: timedelta = timedelta(seconds=30)
    heartbeat: timedelta = timedelta(seconds=2)


class RunQueuedExecution:
    def __init__(
        self,
        services: LlmServices,
        worker_id: str,
        lease: Lease = Lease(),
        after_finish: Callable[[Execution], Awaitable[None]] | None = None,
    ) -> None:
        self._s, self._worker, self._lease = services, worker_id, lease
        # Called once this worker stored the end of a run that has a callback (its
        # delivery goes out now; otherwise the delivery dispatcher finds it).
        self._after_finish = after_finish

    async def __call__(self, execution_id: uuid.UUID, tenant_id: uuid.UUID) -> None:
        scope = Principal(key_id=uuid.UUID(int=0), tenant_id=tenant_id)
        prepared = await self._claim(scope, execution_id)
        if prepared is None:
            return
        execution, request, toolset = prepared
        if request is not None:
            await self._s.events.publish(execution.id, "status", status_data(execution))
            await self._run(scope, execution, request, toolset)
        recorded = await self._record(scope, execution)
        if recorded:
            await self._s.events.publish(execution.id, "done", done_data(execution))
        if recorded and execution.callback_url is not None and self._after_finish is not None:
            try:
                await self._after_finish(execution)
            except Exception:  # the dispatcher's next pass sends it instead
                log.exception("execution %s: callback not dispatched at once", execution.id)

    async def _claim(
        self, scope: Principal, execution_id: uuid.UUID
    ) -> tuple[Execution, ChatRequest | None, Toolset] | None:
        now = self._s.clock.now()
        async with self._s.uow_factory() as uow:
            await uow.scope_to(scope)
            execution = await uow.executions.claim(
                execution_id, self._worker, now, now + self._lease.duration
            )
            if execution is None:
                return None  # finished, cancelled, or another worker holds it: a no-op
            agent = await uow.agents.get(execution.agent_id)
            request, toolset = None, Toolset()
            if agent is None or not agent.is_runnable:
                execution.fail("The agent was deleted or is not active any more", now)
            else:
                try:
                    model, key, _ = await route_for(uow, self._s.box, agent)
                    request = chat_request(agent, execution.input, model, key)
                    toolset = await tools_for(uow, self._s, agent)
                except Refused as exc:
                    execution.fail(str(exc), now)
            await uow.commit()
        return execution, request, toolset

    async def _run(
        self, scope: Principal, execution: Execution, request: ChatRequest, toolset: Toolset
    ) -> None:
        calls: list[ToolCallRecord] = []
        loop = ToolLoop(self._s.gateway, self._s.mcp)
        # Without tools the answer is streamed, each delta published as it comes; a tool
        # loop's intermediate answers are not the run's output, so it is not streamed.
        work = (
            loop.run(request, toolset, calls) if toolset.tools else self._answer(execution, request)
        )
        call = asyncio.ensure_future(work)
        try:
            while True:
                done, _ = await asyncio.wait({call}, timeout=self._lease.heartbeat.total_seconds())
                if done:
                    break
                if not await self._still_wanted(scope, execution):
                    call.cancel()
                    return
            result: ChatResult = call.result()
        except GatewayError as exc:
            execution.fail(
                str(exc) or type(exc).__name__,
                self._s.clock.now(),
                timed_out=isinstance(exc, GatewayTimeout),
            )
            return
        finally:
            if not call.done():
                call.cancel()
            execution.tool_calls = tuple(calls)
        usage = TokenUsage(
            result.usage.prompt_tokens, result.usage.completion_tokens, result.usage.total_tokens
        )
        execution.succeed(result.content, result.model, usage, result.cost, self._s.clock.now())

    async def _answer(self, execution: Execution, request: ChatRequest) -> ChatResult:
        """The gateway's answer, streamed: the deltas are published as they come (those
        that come while a publish is out, together: application/use_cases/delta_relay.py)."""
        relay = DeltaRelay(self._s.events, execution.id)
        try:
            async for item in self._s.gateway.stream(request):
                if isinstance(item, ChatDelta):
                    relay.add(item.content)
                else:
                    await relay.flush()  # every delta before the `done` event
                    return item
        finally:
            relay.cancel()  # a no-op once flushed
        raise GatewayError("the LLM gateway's stream ended without a result")

    async def _still_wanted(self, scope: Principal, execution: Execution) -> bool:
        """Heartbeat: renew the lease; False (and the execution ends cancelled) on a cancel
        request, False (and nothing is recorded) if the lease was lost to the reaper."""
        now = self._s.clock.now()
        async with self._s.uow_factory() as uow:
            await uow.scope_to(scope)
            held = await uow.executions.renew_lease(
                execution.id, self._worker, now + self._lease.duration
            )
            await uow.commit()
        if held is None:
            log.warning("execution %s: lease lost, leaving it to its new owner", execution.id)
            execution.claimed_by = None
            return False
        if held.cancel_requested:
            execution.cancel(now)
            return False
        return True

    async def _record(self, scope: Principal, execution: Execution) -> bool:
        """True if this worker stored the end of the run."""
        if execution.claimed_by != self._worker or not execution.is_finished:
            return False
        try:
            async with self._s.uow_factory() as uow:
                await uow.scope_to(scope)
                await uow.executions.finish(execution, self._worker)
                await uow.commit()
        except LeaseLost:
            log.info("execution %s ended elsewhere first; this result is dropped", execution.id)
            return False
        return True
