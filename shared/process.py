"""Settings of a service's process that no single service owns."""

from __future__ import annotations

import gc

# New objects between two collections; Python's default is 700. A service makes and drops
# hundreds of small objects per event (payload models, dicts, envelopes), so at 700 it
# collected hundreds of times a second, and the full collections among them walk every
# live object: in a router run of 5,000 messages three of 80-100 ms each, a fifth of its
# time (bench/router_service.py: 2,900-3,000 records/s at 700, 4,000 at 50,000).
YOUNG_OBJECTS = 50_000


def tune_garbage_collector() -> None:
    """For a long-running service, once its modules are imported: what exists now (code,
    schemas, settings) lives as long as the process, so it leaves the collector's view;
    and the collector runs on tens of thousands of new objects, not hundreds."""
    gc.freeze()
    gc.set_threshold(YOUNG_OBJECTS, 10, 10)
