"""Process-wide settings for long-running servers (``clarion serve`` and its intake workers)."""

from __future__ import annotations

import gc


def quiet_garbage_collector() -> None:
    """Keep Python's cycle collector from pausing a busy server (decision 0051).

    Everything loaded at start (the web stack, the stores) is frozen out of the collector's
    scans, and collections run every 50,000 allocations rather than every 700: a full
    collection over the server's objects paused every request for up to ~150 ms.
    """
    gc.collect()
    gc.freeze()
    gc.set_threshold(50_000, 20, 100)
