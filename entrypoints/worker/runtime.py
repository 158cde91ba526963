"""A worker: Dramatiq worker threads running queued executions, plus the reaper.

Its own composition root: engine, gateway and secret box are built here, per process.
"""

import asyncio
import logging
import os
import socket
import threading
import uuid
from collections.abc import Awaitable, Callable
from datetime import timedelta

import dramatiq
import uvloop
from dramatiq.brokers.redis import RedisBroker

from adapters.dramatiq_queue.actors import declare_deliver, declare_run_execution
from adapters.dramatiq_queue.queue import DramatiqJobQueue
from adapters.sqlalchemy.engine import create_runtime_engine
from adapters.sqlalchemy.unit_of_work import SqlUnitOfWork
from adapters.system import SystemClock
from application.use_cases.deliveries import AttemptDelivery, DispatchDeliveries
from application.use_cases.mcp_checks import RecheckMcpServers
from application.use_cases.reaper import ReapExecutions
from application.use_cases.run_execution import Lease, RunQueuedExecution
from application.use_cases.services import LlmServices
from entrypoints.composition import (
    DatabaseUrls,
    execution_events,
    llm_gateway,
    mcp_services,
    secret_box,
)
from entrypoints.settings import Settings
from entrypoints.worker.deliveries import delivery_services

log = logging.getLogger("agentkeel.worker")


class WorkerRuntime:
    def __init__(
        self, settings: Settings, urls: DatabaseUrls, broker: RedisBroker, threads: int
    ) -> None:
        self._settings, self._urls, self._broker, self._threads = settings, urls, broker, threads
        self.worker_id = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}"
        self._worker: dramatiq.Worker | None = None
        self._stop = threading.Event()
        self._reaper: threading.Thread | None = None
        self._mcp_health: threading.Thread | None = None
        self._closers: list[Callable[[], Awaitable[None]]] = []

    def start(self) -> None:
        # Dramatiq's AsyncIO middleware makes its loop with asyncio.new_event_loop(): under
        # this policy that is a uvloop loop, which cut the per-message CPU.
        asyncio.set_event_loop_policy(uvloop.EventLoopPolicy())
        settings = self._settings
        engine = create_runtime_engine(self._urls.runtime, pool_size=max(2, self._threads))
        gateway = llm_gateway(settings)
        self._closers = [engine.dispose, *filter(None, [getattr(gateway, "aclose", None)])]
        services = LlmServices(
            gateway=gateway,
            box=secret_box(settings),
            clock=SystemClock(),
            uow_factory=lambda: SqlUnitOfWork(engine),
            mcp=mcp_services(settings),
            events=execution_events(settings),
        )
        lease = Lease(
            timedelta(seconds=settings.worker_lease_s),
            timedelta(seconds=settings.worker_heartbeat_s),
        )
        box, uow_factory = services.box, services.uow_factory
        deliveries, closers = delivery_services(
            settings, uow_factory, box, DramatiqJobQueue(self._broker)
        )
        self._closers += closers
        dispatch = DispatchDeliveries(deliveries)
        run = RunQueuedExecution(services, self.worker_id, lease, dispatch.after_execution)
        declare_run_execution(self._broker, run)
        declare_deliver(self._broker, AttemptDelivery(deliveries))
        self._worker = dramatiq.Worker(self._broker, worker_threads=self._threads)
        self._worker.start()
        self._reaper = threading.Thread(target=self._reap_forever, name="reaper", daemon=True)
        self._reaper.start()
        self._mcp_health = threading.Thread(
            target=asyncio.run, args=(self._mcp_health_loop(),), name="mcp-health", daemon=True
        )
        self._mcp_health.start()
        log.info("worker %s: %d threads", self.worker_id, self._threads)

    def stop(self) -> None:
        self._stop.set()
        if self._worker is not None:
            self._worker.stop()
        for thread in (self._reaper, self._mcp_health):
            if thread is not None:
                thread.join(timeout=10)
        # A thread of its own: stop() is also called from the HTTP server's running loop
        # (embedded mode), where no other loop may run.
        closing = threading.Thread(target=asyncio.run, args=(self._close(),), name="closing")
        closing.start()
        closing.join(timeout=10)

    async def _close(self) -> None:
        for close in self._closers:
            try:
                await close()
            except Exception:  # the process is going away; do not mask the shutdown
                log.debug("closing %s failed at shutdown", close, exc_info=True)

    def _reap_forever(self) -> None:
        asyncio.run(self._reap_loop())

    async def _reap_loop(self) -> None:
        settings = self._settings
        engine = create_runtime_engine(self._urls.runtime, pool_size=1)
        queue = DramatiqJobQueue(self._broker)
        deliveries, closers = delivery_services(
            settings, lambda: SqlUnitOfWork(engine), secret_box(settings), queue
        )
        dispatch = DispatchDeliveries(deliveries)
        reaper = ReapExecutions(
            lambda: SqlUnitOfWork(engine),
            queue,
            SystemClock(),
            requeue_after=timedelta(seconds=settings.requeue_after_s),
        )
        try:
            while not self._stop.is_set():
                try:
                    await reaper()
                    await dispatch()
                except Exception:
                    log.exception("reaper pass failed; retrying next interval")
                await asyncio.to_thread(self._stop.wait, settings.reaper_interval_s)
        finally:
            for close in closers:
                await close()
            await queue.aclose()
            await engine.dispose()

    async def _mcp_health_loop(self) -> None:
        """Active MCP servers are checked again every AGENTKEEL_MCP_CHECK_INTERVAL_S: one
        that stopped answering turns `error` and its tools stop being offered."""
        settings = self._settings
        engine = create_runtime_engine(self._urls.runtime, pool_size=1)
        gateway = llm_gateway(settings)  # unused by checks; LlmServices carries one
        services = LlmServices(
            gateway=gateway,
            box=secret_box(settings),
            clock=SystemClock(),
            uow_factory=lambda: SqlUnitOfWork(engine),
            mcp=mcp_services(settings),
        )
        interval = settings.mcp_check_interval_s
        recheck = RecheckMcpServers(services, timedelta(seconds=interval))
        try:
            while not self._stop.is_set():
                try:
                    while await recheck() and not self._stop.is_set():
                        pass  # a full batch: more may be due
                except Exception:
                    log.exception("MCP health pass failed; retrying next interval")
                await asyncio.to_thread(self._stop.wait, min(interval, 60.0))
        finally:
            await engine.dispose()
            close = getattr(gateway, "aclose", None)
            if close is not None:
                await close()
