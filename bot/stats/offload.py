"""Work that would hold up the bot, done in one worker process: charts and spreadsheet files.

Drawing a chart or writing a large XLSX is CPU work in Python; on the event loop's thread it would
keep every other person waiting for its whole length (and a thread would still share the GIL with
the loop). One separate process does it instead, on another core, started on first use and kept.

The process is started with "spawn" (a fresh interpreter: forking a process that runs threads is not
safe), runs at a lower priority (``nice`` 10: on a small server, answering people comes before
drawing), imports matplotlib once (:func:`bot.stats.chart.warm_up`), and is started again on the
next call if it ever dies.
"""

from __future__ import annotations

import asyncio
import contextlib
import multiprocessing
import os
import threading
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from typing import ParamSpec, TypeVar

from bot.stats.chart import warm_up

P = ParamSpec("P")
R = TypeVar("R")

_lock = threading.Lock()
_pool: ProcessPoolExecutor | None = None


WORKER_NICENESS = 10


def _start_worker() -> None:
    """The worker's first steps: step back in the queue for the CPU, then load matplotlib."""
    with contextlib.suppress(OSError):  # not permitted, or not on this system: run at equal priority
        os.nice(WORKER_NICENESS)
    warm_up()


def _executor() -> ProcessPoolExecutor:
    global _pool
    with _lock:
        if _pool is None:
            _pool = ProcessPoolExecutor(
                max_workers=1, mp_context=multiprocessing.get_context("spawn"), initializer=_start_worker
            )
        return _pool


def _discard(broken: ProcessPoolExecutor) -> None:
    global _pool
    with _lock:
        if _pool is broken:
            _pool = None
    broken.shutdown(wait=False, cancel_futures=True)


async def run(function: Callable[P, R], /, *args: P.args, **kwargs: P.kwargs) -> R:
    """``function(*args, **kwargs)`` in the worker process; the arguments and result are pickled."""
    for attempt in range(2):
        pool = _executor()
        try:
            future = pool.submit(function, *args, **kwargs)
            return await asyncio.wrap_future(future)
        except BrokenProcessPool:
            _discard(pool)
            if attempt:
                raise
    raise AssertionError("unreachable")


def start() -> None:
    """Start the worker now (it warms up in the background), so the first chart is not slow."""
    _executor().submit(warm_up)


def shutdown() -> None:
    global _pool
    with _lock:
        pool, _pool = _pool, None
    if pool is not None:
        pool.shutdown(wait=True, cancel_futures=True)
