"""`agentkeel worker`: processes that run queued executions (and the reaper)."""

import signal
import subprocess
import sys
import threading

from entrypoints.composition import ConfigurationError, broker, database_urls
from entrypoints.settings import Settings
from entrypoints.worker.runtime import WorkerRuntime

# Dramatiq's worker threads, its consumer thread and the event loop thread take turns on the
# GIL for every message. At the default 5 ms, a thread waiting for the GIL forces the
# holder to drop it that often, so the loop thread (which does the actual work) is
# interrupted mid-run and the threads ping-pong. Every thread here blocks on I/O soon
# anyway. 50 ms: ~10% less CPU per message and ~10% more done/s, in 7 A/B pairs of
# drains (4,000 messages, --threads 32) on the 2-core bench machine.
WORKER_SWITCH_INTERVAL_S = 0.05


def run_worker(settings: Settings, processes: int, threads: int) -> None:
    if settings.redis_url is None:
        raise ConfigurationError(
            "agentkeel worker needs AGENTKEEL_REDIS_URL (without it, `agentkeel serve` runs "
            "the workers in its own process on an embedded Redis)"
        )
    if processes > 1:
        _supervise(processes, threads)
        return
    sys.setswitchinterval(WORKER_SWITCH_INTERVAL_S)
    stop = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stop.set())
    runtime = WorkerRuntime(settings, database_urls(settings), broker(settings), threads)
    runtime.start()
    print(f"agentkeel worker {runtime.worker_id} running ({threads} threads)", flush=True)
    stop.wait()
    runtime.stop()


def _supervise(processes: int, threads: int) -> None:
    """One single-process worker per child; signals are passed on, exits are waited for."""
    command = [sys.argv[0], "worker", "--processes", "1", "--threads", str(threads)]
    children = [subprocess.Popen(command) for _ in range(processes)]  # noqa: S603 (our own argv)

    def forward(signum: int, _frame: object) -> None:
        for child in children:
            child.send_signal(signum)

    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, forward)
    for child in children:
        child.wait()
