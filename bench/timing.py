"""Timing and memory helpers used inside a benchmark child process."""

from __future__ import annotations

import gc
import math
import resource
import statistics
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

SINGLE_WARMUP = 20


def time_batch(fn: Callable[[Any], Any], batch: Any, runs: int) -> list[float]:
    """Seconds for ``runs`` timed calls of ``fn(batch)`` (the caller has already warmed up)."""
    gc.collect()
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        fn(batch)
        times.append(time.perf_counter() - start)
    return times


def time_single(
    fn: Callable[[Any], Any], rows: Sequence[Any], warmup: int = SINGLE_WARMUP
) -> list[float]:
    """Seconds for one call per prepared single-row input, after ``warmup`` untimed calls."""
    for i in range(warmup):
        fn(rows[i % len(rows)])
    gc.collect()
    times = []
    for row in rows:
        start = time.perf_counter()
        fn(row)
        times.append(time.perf_counter() - start)
    return times


def percentile(values: Sequence[float], q: float) -> float:
    """Nearest-rank percentile (``q`` in 0..100) of a non-empty sequence."""
    ordered = sorted(values)
    rank = max(1, math.ceil(q / 100 * len(ordered)))
    return ordered[rank - 1]


def median(values: Sequence[float]) -> float:
    """The median of a non-empty sequence."""
    return statistics.median(values)


def spread(values: Sequence[float], spec: str = ",.1f") -> str:
    """``median (min–max)`` of a non-empty sequence, each formatted with ``spec``: how the
    results pages give a measurement over repeats."""
    middle, low, high = statistics.median(values), min(values), max(values)
    return f"{middle:{spec}} ({low:{spec}}–{high:{spec}})"


def peak_rss_mb() -> float:
    """Peak resident set size of this process in MiB.

    On Linux this is ``VmHWM`` from ``/proc/self/status``: ``ru_maxrss`` survives ``execve``, so
    a child started by a big parent would report the parent's peak instead of its own.
    """
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except (OSError, ValueError, IndexError):
        pass
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return rss / (1024 * 1024) if sys.platform == "darwin" else rss / 1024
