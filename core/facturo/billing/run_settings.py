"""Process-wide interpreter settings held while the renewal run bills: the cyclic garbage
collector paused, and the GIL handed between threads more often.

Both are process-wide, as the garbage collector and the GIL are; each is restored when the run
ends. In ``facturo serve`` the run happens in the worker's own process; only a web process with
an embedded worker (the demo, development) shares them with its web threads meanwhile.
"""

from __future__ import annotations

import gc
import sys
from collections.abc import Iterator
from contextlib import contextmanager

#: The GIL switch interval during a run (CPython's default is 5 ms).
RUN_SWITCH_INTERVAL_SECONDS = 0.0005


@contextmanager
def run_settings() -> Iterator[None]:
    """:func:`no_cycle_collection` and :func:`quick_gil_handoffs` together."""
    with no_cycle_collection(), quick_gil_handoffs():
        yield


@contextmanager
def no_cycle_collection() -> Iterator[None]:
    """The cyclic garbage collector paused meanwhile (reference counting still frees
    everything else), then one young collection.

    A batch makes about 30,000 rows, dicts and tuples that live until its commit, so the
    collector ran about 3,200 times per 100,000 services, and its full collections (over
    every object of the process) took most of the 2.4-4 s it cost a 10-12 s run on SQLite.
    The run makes little cyclic garbage: its peak memory is the same without the collector.
    A run that starts while another run of this process has paused it leaves the resuming
    to that one.
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()
            gc.collect(0)


@contextmanager
def quick_gil_handoffs() -> Iterator[None]:
    """The GIL switch interval set to RUN_SWITCH_INTERVAL_SECONDS meanwhile, then restored.

    The thread writing a batch releases the GIL for every statement the database runs, while
    the drafting worker runs Python. Back from the database, the writer waited for the
    worker to be made to release the GIL, up to the whole interval each time: on SQLite,
    with 5 ms, the run took 5.8 s where it takes 5.1 s with 0.5 ms.
    """
    previous = sys.getswitchinterval()
    sys.setswitchinterval(RUN_SWITCH_INTERVAL_SECONDS)
    try:
        yield
    finally:
        sys.setswitchinterval(previous)
