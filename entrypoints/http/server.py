"""Builds the HTTP app for a real process: SQL adapters, pool disposed at shutdown."""

import gc
from datetime import timedelta

from litestar import Litestar

from adapters.dramatiq_queue.queue import DramatiqJobQueue
from entrypoints.composition import (
    DatabaseUrls,
    broker,
    broker_readiness,
    database_urls,
    execution_events,
    http_dependencies,
    llm_gateway,
    mcp_services,
    runtime_engine,
    secret_box,
)
from entrypoints.http.app import create_app
from entrypoints.settings import Settings
from entrypoints.worker.runtime import WorkerRuntime


def build_app(urls: DatabaseUrls, settings: Settings) -> Litestar:
    box = secret_box(settings)
    gateway = llm_gateway(settings)
    engine = runtime_engine(urls, settings)
    redis_broker = broker(settings)
    queue = DramatiqJobQueue(redis_broker)
    events = execution_events(settings)
    deps = http_dependencies(
        engine,
        gateway,
        box,
        queue,
        broker_readiness(redis_broker),
        metrics_public=settings.metrics_public,
        requeue_after=timedelta(seconds=settings.requeue_after_s),
        allow_private_callbacks=settings.allow_private_callbacks,
        mcp=mcp_services(settings),
        events=events,
    )
    app = create_app(deps)
    app.on_shutdown.append(engine.dispose)
    app.on_shutdown.append(queue.aclose)  # its asyncio Redis client
    app.on_shutdown.append(events.aclose)  # idem
    if settings.redis_url is None:
        # Embedded broker: this process also works the queue (a fresh machine has no
        # separate worker). With AGENTKEEL_REDIS_URL, run `agentkeel worker` instead.
        workers = WorkerRuntime(settings, urls, redis_broker, settings.embedded_worker_threads)
        app.on_startup.append(workers.start)
        app.on_shutdown.append(workers.stop)
    closer = getattr(gateway, "aclose", None)
    if closer is not None:
        app.on_shutdown.append(closer)
    return app


# The cyclic collector, tuned for a process whose requests leave no cycles
# (tests/integration/test_reference_cycles.py): what a pass finds is almost all alive.
# Youngest pass after 7,000 net allocations, not 700: with 100 streamed runs open the
# passes took ~4% of the CPU at 700, ~1% at 7,000. A full pass after 100 middle ones,
# not 10: it walks every live object (with 100 streams open: 60-100 ms here), a pause
# that every request in flight waits out (docs/benchmarks.md, "Streaming").
YOUNG_COLLECTION_THRESHOLD = 7_000
FULL_COLLECTION_THRESHOLD = 100


def freeze_startup_objects() -> None:
    """Everything built so far (routes, OpenAPI, SQL metadata) lives as long as the process;
    frozen, it is no longer walked by every full collection, which cut the p99 under load.
    Then the collector's thresholds for serving (above)."""
    gc.collect()
    gc.freeze()
    _, middle, _ = gc.get_threshold()
    gc.set_threshold(YOUNG_COLLECTION_THRESHOLD, middle, FULL_COLLECTION_THRESHOLD)


def app_from_environment() -> Litestar:
    """`serve --workers N`: each worker process builds its own app (pools, clients)."""
    settings = Settings.from_env()
    app = build_app(database_urls(settings), settings)
    freeze_startup_objects()
    return app
