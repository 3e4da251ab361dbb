"""Independent answers that tests compare the implementation against."""

from __future__ import annotations

import networkx as nx

from cdp.profile.find import find_by_identifier
from cdp.store import Stores


def components(history: list[list[str]]) -> set[frozenset[str]]:
    """The persons a history must give when no rule is touched: the connected components
    of the graph whose edges join identifiers carried by one event."""
    graph: nx.Graph[str] = nx.Graph()
    for keys in history:
        graph.add_nodes_from(keys)
        nx.add_path(graph, keys)
    return {frozenset(c) for c in nx.connected_components(graph)}


async def owner(stores: Stores, type_: str, value: str) -> str | None:
    """The id of the person holding an identifier (region GB), or None."""
    profile = await find_by_identifier(stores, type_, value, "GB")
    return profile.id if profile else None
