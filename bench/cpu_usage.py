"""How much of the benchmark's CPUs other programs took during a measurement.

Pinning keeps the benchmark's processes apart, but not the rest of the
machine. Over a measured window this compares the busy time of the server
and load CPUs (from ``/proc/stat``) with the CPU time of the benchmark's
own processes and of the PostgreSQL and Redis servers. What is left is
time that other programs ran there.

Busy time includes interrupt and softirq time, because the kernel charges
the softirq work of loopback traffic to the process it interrupted, so a
process's own times include it too. PostgreSQL and Redis are not pinned,
and their time is subtracted wherever it ran: on a machine with more CPUs
than the benchmark uses, the result underestimates the other programs.
Steal time is the time the hypervisor gave the CPUs to other guests.
"""

from __future__ import annotations

import contextlib
import os
import resource
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

PROC = Path("/proc")
TICKS_PER_SECOND = os.sysconf("SC_CLK_TCK")
# Command names of the database servers, which other programs may use at the same time.
DATABASE_COMMANDS = frozenset({"postgres", "redis-server"})


@dataclass(frozen=True, slots=True)
class Snapshot:
    busy_s: float
    steal_s: float
    benchmark_s: float
    database_s: float
    taken_at: float


def parse_cpu_list(cpu_list: str) -> set[int]:
    """Parse a taskset CPU list such as ``1`` or ``0,2-3``."""
    cpus: set[int] = set()
    for part in cpu_list.split(","):
        first, _, last = part.strip().partition("-")
        cpus.update(range(int(first), int(last or first) + 1))
    return cpus


def cpu_times(cpus: set[int]) -> tuple[float, float]:
    """Return the busy (user, nice, system, irq, softirq) and steal seconds of ``cpus`` since boot."""
    busy = steal = 0
    for line in (PROC / "stat").read_text().splitlines():
        name, *fields = line.split()
        if not name.startswith("cpu") or name == "cpu" or int(name[3:]) not in cpus:
            continue
        user, nice, system, _idle, _iowait, irq, softirq, steal_ticks = (int(value) for value in fields[:8])
        busy += user + nice + system + irq + softirq
        steal += steal_ticks
    return busy / TICKS_PER_SECOND, steal / TICKS_PER_SECOND


def process_cpu_seconds(root_pid: int) -> tuple[float, float]:
    """Return the user and system seconds of ``root_pid`` with its descendants, and of the database servers."""
    parents: dict[int, int] = {}
    ticks: dict[int, int] = {}
    database_ticks = 0
    for stat_path in PROC.glob("[0-9]*/stat"):
        try:
            text = stat_path.read_text()
        except OSError:
            continue  # The process exited while /proc was being read.
        command = text[text.index("(") + 1:text.rindex(")")]
        # The fields after the command name, which may contain spaces, start after the last ")".
        fields = text.rsplit(")", 1)[1].split()
        pid = int(stat_path.parent.name)
        parents[pid] = int(fields[1])
        ticks[pid] = int(fields[11]) + int(fields[12])
        if command in DATABASE_COMMANDS:
            database_ticks += ticks[pid]
    tree = {root_pid}
    while children := {pid for pid, parent in parents.items() if parent in tree} - tree:
        tree |= children
    own_ticks = sum(ticks.get(pid, 0) for pid in tree)
    return own_ticks / TICKS_PER_SECOND, database_ticks / TICKS_PER_SECOND


def snapshot(cpus: set[int]) -> Snapshot:
    busy, steal = cpu_times(cpus)
    running, databases = process_cpu_seconds(os.getpid())
    # Children that exited and were waited for leave /proc; their times move to RUSAGE_CHILDREN.
    waited = resource.getrusage(resource.RUSAGE_CHILDREN)
    benchmark = running + waited.ru_utime + waited.ru_stime
    return Snapshot(busy, steal, benchmark, databases, time.monotonic())


@contextlib.contextmanager
def watch(cpu_lists: list[str]) -> Iterator[dict[str, float]]:
    """Fill the yielded dict, when the block ends, with the CPU seconds of the window and who used them."""
    cpus = set().union(*(parse_cpu_list(cpu_list) for cpu_list in cpu_lists))
    usage: dict[str, float] = {}
    before = snapshot(cpus)
    yield usage
    after = snapshot(cpus)
    window = after.taken_at - before.taken_at
    benchmark = after.benchmark_s - before.benchmark_s
    databases = after.database_s - before.database_s
    # Times are counted in whole ticks, so a small negative difference is rounding.
    other = max(0.0, after.busy_s - before.busy_s - benchmark - databases)
    usage.update({
        "window_s": round(window, 2),
        "cpus": len(cpus),
        "benchmark_cpu_s": round(benchmark, 2),
        "database_cpu_s": round(databases, 2),
        "other_cpu_s": round(other, 2),
        "other_share": round(other / (window * len(cpus)), 3) if window else 0.0,
        "steal_s": round(after.steal_s - before.steal_s, 2),
    })
