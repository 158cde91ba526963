"""CPU counters for the execute and queue benches, from /proc: the process under test (and
its children), all postgres processes, redis-server and the whole machine."""

import os
import time
from dataclasses import dataclass
from pathlib import Path


def tree(pid: int) -> list[int]:
    """The process and its children (`serve --workers N` forks N uvicorn workers)."""
    try:
        children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
    except OSError:
        children = []
    return [pid, *map(int, children)]


def ticks(pids: list[int]) -> int:
    total = 0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            total += int(fields[11]) + int(fields[12])
        except (OSError, IndexError, ValueError):
            pass
    return total


def _named(comm: str) -> list[int]:
    """PIDs whose command name is `comm` (postgres backends, redis-server)."""
    pids = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                if Path(f"/proc/{entry}/comm").read_text().strip() == comm:
                    pids.append(int(entry))
            except OSError:
                pass
    return pids


def machine() -> tuple[int, int]:
    """(busy, all) jiffies from /proc/stat, as load.sh counts them."""
    v = [int(x) for x in Path("/proc/stat").read_text().splitlines()[0].split()[1:9]]
    return v[0] + v[1] + v[2] + v[5] + v[6] + v[7], sum(v)


@dataclass(slots=True)
class Sample:
    t: float
    done: int
    proc: int  # ticks of the process under test (serve or worker)
    pg: int  # ticks of all postgres processes
    rds: int  # ticks of redis-server
    busy: int
    total: int

    @classmethod
    def take(cls, pid: int, done: int = 0) -> "Sample":
        b, a = machine()
        return cls(time.monotonic(), done, ticks(tree(pid)), ticks(_named("postgres")),
                   ticks(_named("redis-server")), b, a)  # fmt: skip


@dataclass(frozen=True, slots=True)
class Usage:
    seconds: float
    proc_pct: float
    pg_pct: float
    redis_pct: float
    busy_pct: float
    proc_s: float
    pg_s: float


def usage(a: Sample, b: Sample) -> Usage:
    hz = os.sysconf("SC_CLK_TCK")
    wall = max(1e-9, b.t - a.t)
    proc_s, pg_s, rds_s = (b.proc - a.proc) / hz, (b.pg - a.pg) / hz, (b.rds - a.rds) / hz
    busy = 100 * (b.busy - a.busy) / (b.total - a.total) if b.total > a.total else 0.0
    return Usage(wall, 100 * proc_s / wall, 100 * pg_s / wall, 100 * rds_s / wall, busy, proc_s,
                 pg_s)  # fmt: skip


def host_speed(seconds: float = 10.0, slice_s: float = 0.5) -> list[int]:
    """Loops of fixed Python work done per `slice_s`, one core, on an otherwise idle
    machine: how much the machine's own speed moves (on this VM, by 2x within seconds,
    which is why the streaming bench compares adjacent rounds)."""
    counts: list[int] = []
    end = time.monotonic() + seconds
    while (now := time.monotonic()) < end:
        until, n = now + slice_s, 0
        while time.monotonic() < until:
            for _ in range(1000):
                pass
            n += 1
        counts.append(n)
    return counts
