/// A path: vertices v0..vn and the n edges between them (index keys), with
/// each edge's weight.
struct GraphPath: Hashable {
    var vertices: [[UInt8]]
    var edges: [[UInt8]]
    var weights: [Double]

    var weight: Double { weights.reduce(0, +) }

    static func == (a: GraphPath, b: GraphPath) -> Bool { a.vertices == b.vertices && a.edges == b.edges }
    func hash(into hasher: inout Hasher) {
        hasher.combine(vertices)
        hasher.combine(edges)
    }

    var memorySize: Int { (vertices.reduce(0) { $0 + $1.count + 32 } + edges.reduce(0) { $0 + $1.count + 32 }) + weights.count * 8 + 64 }

    /// {"vertices": [ids], "edges": [edge ids], "length": edges, "weight": w}.
    func row(weighted: Bool) throws -> MutableValue {
        var members: [(key: String, value: MutableValue)] = [
            ("vertices", .array(try vertices.map(GraphKey.value))), ("edges", .array(try edges.map(GraphKey.value))),
            ("length", .int(Int64(edges.count)))]
        if weighted { members.append(("weight", .double(weight + 0))) }  // + 0: no -0.0
        return .object(members)
    }
}
