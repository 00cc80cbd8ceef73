"""Graphs through the Python binding: declaring, the Graph methods, use in
a transaction, cancellation by interrupt, the memory budget, and a property
test against networkx on random graphs (shortest path lengths, weighted
distances, weak and strong components, cycle existence)."""

from __future__ import annotations

import random
import threading
import time

import pytest

import cairn


@pytest.fixture
def social(db: cairn.Database) -> cairn.Graph:
    graph = db.create_graph("social", edges="follows", vertices=["people"])
    db.collection("people").insert_many([{"_id": name, "age": age} for name, age in
                                         [("ann", 30), ("bob", 40), ("cid", 25), ("dan", 50)]])
    db.collection("follows").insert_many([
        {"_id": 1, "_from": "ann", "_to": "bob", "label": "friend", "weight": 2},
        {"_id": 2, "_from": "bob", "_to": "cid", "label": "friend", "weight": 2},
        {"_id": 3, "_from": "ann", "_to": "cid", "label": "work", "weight": 5},
        {"_id": 4, "_from": "cid", "_to": "ann", "label": "friend"},
    ])
    return graph


def test_declaring_listing_and_dropping(db: cairn.Database, social: cairn.Graph) -> None:
    assert db.list_graphs() == [{"name": "social", "edges": "follows", "vertices": ["people"], "weight": "weight"}]
    assert repr(social) == "<cairn.Graph 'social'>"
    db.drop_graph("social")
    with pytest.raises(cairn.NotFound):
        db.drop_graph("social")
    with pytest.raises(cairn.NotFound):
        db.graph("social").components()
    with pytest.raises(cairn.InvalidArgument):
        db.create_graph("", edges="follows")
    with pytest.raises(TypeError):
        db.graph(3)  # type: ignore[arg-type]


def test_methods_give_the_rows_of_the_header(social: cairn.Graph) -> None:
    rows = list(social.traverse("ann", max_depth=2, labels="friend"))
    assert [(row["id"], row["depth"]) for row in rows] == [("bob", 1), ("cid", 2)]
    assert rows[0]["vertex"] == {"_id": "bob", "age": 40}
    paths = [row["path"] for row in social.traverse("ann", paths=True, vertices=False)]
    assert paths == [{"vertices": ["ann", "bob"], "edges": [1]}, {"vertices": ["ann", "cid"], "edges": [3]}]
    assert [row["id"] for row in social.traverse("ann", vertex_filter={"age": {"$lt": 35}})] == ["cid"]
    assert social.count_paths("ann", min_depth=2, max_depth=2) == 2
    assert social.shortest_path("ann", "cid") == {"vertices": ["ann", "cid"], "edges": [3], "length": 1}
    assert social.shortest_path("ann", "cid", weight=True) == {
        "vertices": ["ann", "bob", "cid"], "edges": [1, 2], "length": 2, "weight": 4.0}
    assert [p["vertices"] for p in social.k_shortest_paths("ann", "cid", 3, weight=True)] == [
        ["ann", "bob", "cid"], ["ann", "cid"]]
    assert social.shortest_path("dan", "ann") is None
    assert [p["vertices"] for p in social.all_paths("ann", "cid", 3)] == [["ann", "bob", "cid"], ["ann", "cid"]]
    assert social.components() == [["ann", "bob", "cid"], ["dan"]]
    assert social.components(strong=True) == [["ann", "bob", "cid"], ["dan"]]
    assert social.find_cycle() == ["ann", "bob", "cid"]
    assert social.has_cycle()
    assert not social.has_cycle(labels="work")
    assert social.cycles(3) == [["ann", "bob", "cid"], ["ann", "cid"]]
    assert social.degree("cid") == {"id": "cid", "out": 1, "in": 2, "degree": 3}
    assert social.neighbors("ann", vertices=False) == [{"id": "bob"}, {"id": "cid"}]
    with pytest.raises(cairn.InvalidArgument, match="direction"):
        social.traverse("ann", direction="up")  # type: ignore[arg-type]


def test_queries_and_vertex_deletion_in_a_transaction(db: cairn.Database, social: cairn.Graph) -> None:
    with db.transaction() as txn:
        graph = txn.graph("social")
        assert graph.delete_vertex("bob") == (1, 2)
        assert graph.shortest_path("ann", "cid") == {"vertices": ["ann", "cid"], "edges": [3], "length": 1}
        assert social.shortest_path("ann", "bob") is not None  # not committed yet
        with pytest.raises(cairn.InvalidArgument):
            txn.create_graph("other", edges="x")
    assert social.shortest_path("ann", "bob") is None
    assert db.collection("follows").count_documents({}) == 2


def test_budget_and_interrupt_stop_explosive_queries(db: cairn.Database) -> None:
    graph = db.create_graph("k", edges="e")
    n = 13
    db.collection("e").insert_many([{"_from": i, "_to": j} for i in range(n) for j in range(n) if i != j])
    with pytest.raises(cairn.InvalidArgument, match="memory"):
        graph.cycles(n, memory_limit=1 << 16)
    timer = threading.Timer(0.2, db.interrupt)
    timer.start()
    started = time.monotonic()
    try:
        with pytest.raises(cairn.Interrupted):
            graph.all_paths(0, 1, n, limit=2**31 - 1, memory_limit=1 << 40)
    finally:
        timer.cancel()
    assert time.monotonic() - started < 10
    assert graph.has_cycle()


def _random_graph(rng: random.Random, n: int, m: int) -> list[tuple[int, int, int]]:
    return [(rng.randrange(n), rng.randrange(n), rng.randrange(1, 10)) for _ in range(m)]


@pytest.mark.parametrize("seed", range(30))
def test_random_graphs_agree_with_networkx(db: cairn.Database, seed: int) -> None:
    nx = pytest.importorskip("networkx")
    rng = random.Random(seed)
    n, m = rng.randrange(5, 40), rng.randrange(0, 80)
    edges = _random_graph(rng, n, m)
    graph = db.create_graph("g", edges="e", vertices=["v"])
    db.collection("v").insert_many([{"_id": i} for i in range(n)])
    if edges:
        db.collection("e").insert_many([{"_from": a, "_to": b, "weight": w} for a, b, w in edges])
    reference = nx.MultiDiGraph()
    reference.add_nodes_from(range(n))
    reference.add_weighted_edges_from(edges)
    simple = nx.DiGraph()
    simple.add_nodes_from(range(n))
    for a, b, w in edges:  # the lightest of parallel edges, as Dijkstra sees them
        if not simple.has_edge(a, b) or simple[a][b]["weight"] > w:
            simple.add_edge(a, b, weight=w)
    for _ in range(20):
        s, t = rng.randrange(n), rng.randrange(n)
        path = graph.shortest_path(s, t)
        weighted = graph.shortest_path(s, t, weight=True)
        if nx.has_path(simple, s, t):
            assert path is not None and path["length"] == nx.shortest_path_length(simple, s, t)
            assert weighted is not None
            assert weighted["weight"] == nx.shortest_path_length(simple, s, t, weight="weight")
            assert path["vertices"][0] == s and path["vertices"][-1] == t
        else:
            assert path is None and weighted is None
    expected_weak = sorted(sorted(c) for c in nx.weakly_connected_components(reference))
    assert sorted(graph.components()) == expected_weak
    expected_strong = sorted(sorted(c) for c in nx.strongly_connected_components(reference))
    assert sorted(graph.components(strong=True)) == expected_strong
    assert graph.has_cycle() == (not nx.is_directed_acyclic_graph(reference))
    cycle = graph.find_cycle()
    if cycle is not None:
        for a, b in zip(cycle, cycle[1:] + cycle[:1]):
            assert simple.has_edge(a, b)
    bounded = graph.cycles(4)
    expected_cycles = {tuple(c) for c in nx.simple_cycles(simple, length_bound=4)}
    assert {tuple(c) for c in bounded} == {min((c[i:] + c[:i] for i in range(len(c)))) for c in expected_cycles}
