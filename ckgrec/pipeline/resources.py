"""Wall time, CPU time and peak resident memory of one stage.

The process's own peak (``getrusage``'s ``ru_maxrss``) only ever grows, so after the first
heavy stage every later stage would report the same figure. A background thread instead
samples the current resident set size (``/proc/self/statm``) every 20 ms while the stage runs
and keeps the maximum; torch releases the GIL in its kernels, so sampling goes on during
training. Where ``/proc`` is missing the process peak is reported instead (and says so).
"""

from __future__ import annotations

import os
import resource
import threading
import time
from dataclasses import dataclass
from pathlib import Path

_STATM = Path("/proc/self/statm")
_PAGE = os.sysconf("SC_PAGE_SIZE") if hasattr(os, "sysconf") else 4096


def current_rss_mib() -> float | None:
    try:
        return int(_STATM.read_text().split()[1]) * _PAGE / 2**20
    except (OSError, ValueError, IndexError):
        return None


def process_peak_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0  # Linux reports KiB


@dataclass
class Usage:
    seconds: float = 0.0
    cpu_seconds: float = 0.0
    rss_start_mib: float | None = None
    peak_rss_mib: float | None = None
    sampled: bool = True  # False: peak is the process's peak so far, not the stage's


class ResourceMonitor:
    """``with ResourceMonitor() as m: ...`` then ``m.usage``."""

    def __init__(self, interval: float = 0.02):
        self.interval = interval
        self.usage = Usage()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def _sample(self) -> None:
        while not self._stop.wait(self.interval):
            rss = current_rss_mib()
            if rss is not None and (self.usage.peak_rss_mib is None or rss > self.usage.peak_rss_mib):
                self.usage.peak_rss_mib = rss

    def __enter__(self) -> "ResourceMonitor":
        self._t0 = time.perf_counter()
        self._cpu0 = time.process_time()
        start = current_rss_mib()
        self.usage.rss_start_mib = start
        self.usage.peak_rss_mib = start
        if start is not None:
            self._thread = threading.Thread(target=self._sample, name="ckg-rss-sampler", daemon=True)
            self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join()
        end = current_rss_mib()
        u = self.usage
        if end is None:
            u.peak_rss_mib, u.sampled = process_peak_mib(), False
        elif u.peak_rss_mib is None or end > u.peak_rss_mib:
            u.peak_rss_mib = end
        u.seconds = time.perf_counter() - self._t0
        u.cpu_seconds = time.process_time() - self._cpu0
