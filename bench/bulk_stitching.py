"""Stitching a bulk load at once: 1,000,000 identifiers into about 300,000 persons.

A bulk import (a CRM dump, a data-warehouse backfill) does not go event by event: the
links of the whole load are known, and the persons are the connected components of the
identifier graph. This measures ``identity.graph.components`` (networkx) on such a graph
(time and peak resident memory of the process), checks it finds exactly the persons the
load was generated from, and measures networkx's ``Graph`` with ``connected_components``
on the same links for comparison.

Run: ``python -m bench.bulk_stitching [--identifiers 1000000] [--engine components]``;
each engine runs in its own process so that peak memory is its own.
"""

from __future__ import annotations

import argparse
import random
import resource
import time

import networkx as nx

from identity.graph import components

TYPES = ["email", "phone", "cookie_id", "device_id", "facebook", "customer_id"]


def load(identifiers: int, seed: int = 11) -> tuple[list[str], list[tuple[str, str]], int]:
    """Persons with 1 to 6 identifiers (3.33 on average), each linked by a few events."""
    rng = random.Random(seed)
    nodes: list[str] = []
    edges: list[tuple[str, str]] = []
    persons = 0
    while len(nodes) < identifiers:
        size = min(rng.choice([1, 2, 3, 3, 4, 4, 5, 6, 2, 3, 4, 3]), identifiers - len(nodes))
        keys = [f"{TYPES[i % len(TYPES)]}:p{persons}-{i}" for i in range(size)]
        nodes.extend(keys)
        for i in range(1, size):  # every identifier was seen with an earlier one of its person
            edges.append((keys[rng.randrange(i)], keys[i]))
        edges.extend((keys[0], keys[-1]) for _ in range(rng.randrange(2)) if size > 1)
        persons += 1
    return nodes, edges, persons


def peak_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--identifiers", type=int, default=1_000_000)
    parser.add_argument("--engine", choices=["components", "graph"], default="components")
    args = parser.parse_args()

    nodes, edges, persons = load(args.identifiers)
    loaded = peak_mib()
    started = time.perf_counter()
    if args.engine == "components":
        found = len(components(edges, nodes))
    else:
        graph: nx.Graph[str] = nx.Graph()
        graph.add_nodes_from(nodes)
        graph.add_edges_from(edges)
        found = sum(1 for _ in nx.connected_components(graph))
    seconds = time.perf_counter() - started
    assert found == persons, (found, persons)
    print(
        f"| {args.engine} | {len(nodes):,} identifiers, {len(edges):,} links | {persons:,} persons "
        f"| {seconds:.1f} s | {peak_mib():,.0f} MiB peak ({loaded:,.0f} MiB after loading) |"
    )


if __name__ == "__main__":
    main()
