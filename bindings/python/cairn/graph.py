"""Graphs: traversals and graph algorithms over an edge collection (wraps
the cairn_graph_ functions).

A graph is declared over an edge collection whose documents carry
``_from`` and ``_to`` (the primary keys of their endpoints), an optional
``label`` and an optional numeric weight; vertices are the documents of
the vertex collections. Reached from a Database or a Transaction:

    social = db.create_graph("social", edges="follows", vertices=["people"])
    db.collection("follows").insert_one({"_from": "ann", "_to": "bob", "label": "friend"})
    for row in social.traverse("ann", max_depth=2):
        print(row["id"], row["depth"])
    social.shortest_path("ann", "cid")          # {"vertices": [...], "edges": [...], ...} or None
    social.components()                         # [[ids of a component], ...]

Every call reads one snapshot and is cancelled by cairn.interrupt() (or
the Database's interrupt()); a call that would need more memory than its
memory_limit (bytes; default the query memory limit) raises
InvalidArgument. include/cairn.h, "Graphs", describes each operation.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from ctypes import byref, c_size_t
from typing import TYPE_CHECKING, Any, Literal

from . import _ffi, errors
from ._extended_json import dumps
from ._ffi import lib
from .collection import name_arg
from .cursor import Cursor

if TYPE_CHECKING:
    from ._db_handle import DbHandle

__all__ = ["Graph"]

Direction = Literal["out", "in", "any"]


class Graph:
    """The graph `name` as seen from a Database or a Transaction. Holds no
    handle of its own: each method is one call on its owner."""

    def __init__(self, owner: DbHandle, name: str) -> None:
        self._owner = owner
        self._name = name_arg(name, "graph name")
        #: The graph's name.
        self.name = name

    def __repr__(self) -> str:
        return f"<cairn.Graph {self.name!r}>"

    def query(self, op: str, **options: Any) -> Cursor:
        """A Cursor over the rows of the graph query {"op": op, **options}
        (cairn_graph_query); the methods below build these."""
        text = dumps({"op": op, **{k: v for k, v in options.items() if v is not None}}, "graph query")
        out = _ffi.cursor_p()
        errors.call(lib.cairn_graph_query, self._owner._handle(), self._name, len(self._name), text, len(text), byref(out))
        return Cursor(self._owner, out)

    def _rows(self, op: str, **options: Any) -> list[dict[str, Any]]:
        with self.query(op, **options) as cursor:
            return list(cursor)

    @staticmethod
    def _labels(labels: str | Iterable[str] | None) -> list[str] | None:
        if labels is None:
            return None
        return [labels] if isinstance(labels, str) else list(labels)

    def traverse(
        self,
        start: Any,
        *,
        direction: Direction = "out",
        order: Literal["bfs", "dfs"] = "bfs",
        min_depth: int = 1,
        max_depth: int | None = None,
        labels: str | Iterable[str] | None = None,
        edge_filter: Mapping[str, Any] | None = None,
        vertex_filter: Mapping[str, Any] | None = None,
        uniqueness: Literal["vertex", "edge"] = "vertex",
        vertices: bool = True,
        edges: bool = False,
        paths: bool = False,
        limit: int | None = None,
        memory_limit: int | None = None,
    ) -> Cursor:
        """A Cursor over the vertices reached from `start`: rows {"id",
        "depth", "vertex" (the document or None), "edge" (with edges=True),
        "path": {"vertices", "edges"} (with paths=True)}, in visiting order."""
        return self.query(
            "traverse", start=start, direction=direction, order=order, min_depth=min_depth, max_depth=max_depth,
            labels=self._labels(labels), edge_filter=edge_filter, vertex_filter=vertex_filter, uniqueness=uniqueness,
            vertices=vertices, edges=edges, paths=paths, limit=limit, memory_limit=memory_limit,
        )

    def count_paths(self, start: Any, *, min_depth: int = 1, max_depth: int | None = None,
                    direction: Direction = "out", labels: str | Iterable[str] | None = None,
                    uniqueness: Literal["vertex", "edge"] = "edge", memory_limit: int | None = None) -> int:
        """How many vertices (uniqueness="vertex") or paths ("edge") a
        traversal reaches at depths min_depth..max_depth."""
        rows = self._rows("traverse", start=start, direction=direction, min_depth=min_depth, max_depth=max_depth,
                          labels=self._labels(labels), uniqueness=uniqueness, count_only=True, memory_limit=memory_limit)
        count: int = rows[0]["count"]
        return count

    def shortest_path(self, start: Any, target: Any, *, direction: Direction = "out",
                      weight: str | bool | None = None, labels: str | Iterable[str] | None = None,
                      edge_filter: Mapping[str, Any] | None = None,
                      memory_limit: int | None = None) -> dict[str, Any] | None:
        """The shortest path {"vertices", "edges", "length", "weight"?} from
        `start` to `target`, or None. weight=True (the graph's weight field)
        or a field name makes it weighted (Dijkstra); negative weights raise
        InvalidArgument."""
        paths = self.k_shortest_paths(start, target, 1, direction=direction, weight=weight, labels=labels,
                                      edge_filter=edge_filter, memory_limit=memory_limit)
        return paths[0] if paths else None

    def k_shortest_paths(self, start: Any, target: Any, k: int, *, direction: Direction = "out",
                         weight: str | bool | None = None, labels: str | Iterable[str] | None = None,
                         edge_filter: Mapping[str, Any] | None = None,
                         memory_limit: int | None = None) -> list[dict[str, Any]]:
        """Up to k loopless paths from `start` to `target`, shortest first (Yen)."""
        options: dict[str, Any] = {}
        if isinstance(weight, str):
            options["weight"] = weight
        elif weight:
            options["weighted"] = True
        return self._rows("shortest_path", start=start, target=target, k=k, direction=direction,
                          labels=self._labels(labels), edge_filter=edge_filter, memory_limit=memory_limit, **options)

    def all_paths(self, start: Any, target: Any, max_length: int, *, direction: Direction = "out",
                  labels: str | Iterable[str] | None = None, edge_filter: Mapping[str, Any] | None = None,
                  limit: int | None = None, memory_limit: int | None = None) -> list[dict[str, Any]]:
        """Every simple path from `start` to `target` of at most max_length edges."""
        return self._rows("all_paths", start=start, target=target, max_length=max_length, direction=direction,
                          labels=self._labels(labels), edge_filter=edge_filter, limit=limit, memory_limit=memory_limit)

    def components(self, *, strong: bool = False, labels: str | Iterable[str] | None = None,
                   memory_limit: int | None = None) -> list[list[Any]]:
        """The weakly (or, with strong=True, strongly) connected components,
        each a list of vertex ids in key order, ordered by first vertex."""
        rows = self._rows("components", mode="strong" if strong else "weak", labels=self._labels(labels),
                          memory_limit=memory_limit)
        return [row["vertices"] for row in rows]

    def find_cycle(self, *, labels: str | Iterable[str] | None = None,
                   memory_limit: int | None = None) -> list[Any] | None:
        """One directed cycle (its vertex ids) or None when the graph has none."""
        row = self._rows("has_cycle", labels=self._labels(labels), memory_limit=memory_limit)[0]
        cycle: list[Any] | None = row["cycle"]
        return cycle

    def has_cycle(self, **options: Any) -> bool:
        """Whether the graph has a directed cycle."""
        return self.find_cycle(**options) is not None

    def cycles(self, max_length: int, *, labels: str | Iterable[str] | None = None, limit: int | None = None,
               memory_limit: int | None = None) -> list[list[Any]]:
        """Every simple directed cycle of at most max_length edges, each
        once, from its smallest vertex."""
        rows = self._rows("cycles", max_length=max_length, labels=self._labels(labels), limit=limit,
                          memory_limit=memory_limit)
        return [row["vertices"] for row in rows]

    def degree(self, vertex: Any, *, labels: str | Iterable[str] | None = None) -> dict[str, Any]:
        """{"id", "out", "in", "degree"}: the vertex's edge counts."""
        row: dict[str, Any] = self._rows("degree", vertex=vertex, labels=self._labels(labels))[0]
        return row

    def neighbors(self, vertex: Any, *, direction: Direction = "out", labels: str | Iterable[str] | None = None,
                  vertices: bool = True) -> list[dict[str, Any]]:
        """The distinct neighbours of `vertex`: rows {"id", "vertex"}."""
        return self._rows("neighbors", vertex=vertex, direction=direction, labels=self._labels(labels),
                          vertices=vertices)

    def delete_vertex(self, vertex: Any) -> tuple[int, int]:
        """Deletes `vertex` and every edge from or to it, atomically;
        returns (vertices deleted, edges deleted)."""
        text = dumps(vertex, "vertex id")
        vertices, edges = c_size_t(), c_size_t()
        errors.call(lib.cairn_graph_delete_vertex, self._owner._handle(), self._name, len(self._name), text, len(text),
                    byref(vertices), byref(edges))
        return vertices.value, edges.value
