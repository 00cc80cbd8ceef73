/// What the graph layer keeps for an open database: the adjacency cache
/// (AdjacencyCache). `Database.graphs` holds it. Graph definitions live in
/// the catalog (GraphDefinition); nothing else is kept in memory.
final class GraphLayer: Sendable {
    let adjacency: AdjacencyCache

    /// `cacheBytes` 0 turns the cache off: a handle that reads another's
    /// directory (read-only, secondary) never sees that writer's commits
    /// as they happen, so it must not keep lists.
    init(cacheBytes: Int) { adjacency = AdjacencyCache(capacity: cacheBytes) }
}
