"""Process-wide settings for long-running servers (``clarion serve`` and its intake workers)."""

from __future__ import annotations

import gc


def load_lazy_imports() -> None:
    """Load now what libraries would load on first use, inside a request or a flush.

    pyarrow imports pandas the first time it converts Python objects (~225 ms here): that
    was the intake worker's first request, and the collector's writer at its first filtered
    flush, stalling every request waiting on it. Call before ``quiet_garbage_collector``, so
    what is loaded is frozen with the rest.
    """
    import pyarrow as pa  # noqa: PLC0415 - only servers pay for it

    pa.array([True])


def quiet_garbage_collector() -> None:
    """Keep Python's cycle collector from pausing a busy server (decision 0051).

    Everything loaded at start (the web stack, the stores) is frozen out of the collector's
    scans, and collections run every 50,000 allocations rather than every 700: a full
    collection over the server's objects paused every request for up to ~150 ms.
    """
    gc.collect()
    gc.freeze()
    gc.set_threshold(50_000, 20, 100)
