"""Python's cyclic garbage collector, set for a long run: ``cdp serve``, and the commands
that work on the database directly (``cdp recompute``, ``cdp demo``...).

CPython collects its youngest generation after every 700 new container objects. A batch
of 500 events makes hundreds of thousands (dicts, lists, BSON documents, GraphQL
results), so the service ran about fifty collections a batch, and the survivors
they promoted made the older generations' collections walk the whole heap: the schema,
the modules and the caches that live as long as the process. Measured in one process
serving 20 batches: 71 ms of collection a batch of about 230 ms of service CPU, and
0.6 to 0.9 ms of a 6 ms profile read. A bulk recompute of 100,000 persons took 92 s
with Python's setting and 75 s with this one.

So, once everything the process keeps for its life is built, those objects are moved
out of the collector's sight (``gc.freeze``: they are never garbage), and the youngest
generation is collected after ``young_threshold`` new objects instead of 700. Nearly
every object a request makes is freed by reference counting the moment it is done; only
garbage in cycles waits for a collection, so memory grows by at most that many objects.
"""

from __future__ import annotations

import gc


def tune_collector(young_threshold: int) -> None:
    """Freeze what exists now and collect the youngest generation less often (0 leaves
    Python's own threshold). Called by the CLI only: tests and tools that build the app
    in their own process keep Python's defaults."""
    gc.collect()
    gc.freeze()
    if young_threshold > 0:
        _, middle, oldest = gc.get_threshold()
        gc.set_threshold(young_threshold, middle, oldest)
