/// A declared graph: an edge collection over one or more vertex
/// collections. Vertices are ordinary documents; edges are documents with
/// `_from` and `_to` (the primary keys of their endpoints), an optional
/// `label` and an optional numeric weight field (`weight` unless the
/// declaration names another).
///
/// Declaring a graph creates two ordinary indexes on the edge collection
/// (GraphAdjacency): `_graph_out` on {_from, label, _to} and `_graph_in` on
/// {_to, label, _from}. Their entries are written in the same atomic batch
/// as the edge, by the documents layer, so traversals are prefix scans
/// that see exactly the edges of their snapshot.
///
/// The declaration is kept at 0x0A | name (docs/format/graph.md) as the
/// binary document {"edges": name, "vertices": [names], "weight": field}.
struct GraphDefinition {
    let name: String
    let edges: String
    let vertices: [String]
    let weight: String

    static let outIndexName = "_graph_out"
    static let inIndexName = "_graph_in"
    static let maxVertexCollections = 64

    static func key(_ name: String) -> [UInt8] { [Namespace.graphs.rawValue] + Array(name.utf8) }

    static func validate(name: String) throws {
        guard !name.isEmpty, name.utf8.count <= 255, !name.utf8.contains(0) else {
            throw CairnError.invalidArgument("graph name must be 1 to 255 bytes of UTF-8 without NUL")
        }
    }

    /// Parses a user's declaration: {"edges": "follows", "vertices":
    /// ["people"] (or one name), "weight": "weight"}.
    static func parse(name: String, json: UnsafeRawBufferPointer) throws -> GraphDefinition {
        try validate(name: name)
        let binary = try DocumentBuilder.document(fromJSON: json, what: "graph declaration")
        return try binary.withUnsafeBytes { try parse(name: name, DocumentValue($0), what: "graph declaration") }
    }

    private static func string(_ value: DocumentValue, _ here: String) throws -> String {
        guard case .string(let utf8) = try value.kind() else { throw CairnError.invalidArgument("\(here) must be a string") }
        return String(decoding: utf8, as: UTF8.self)
    }

    static func parse(name: String, _ value: DocumentValue, what: String) throws -> GraphDefinition {
        var edges: String?, vertices: [String] = [], weight = "weight"
        for (key, member) in try value.members() {
            switch key {
            case "name": continue  // the stored form repeats the key's name
            case "edges": edges = try string(member, "\(what).edges")
            case "vertices":
                if case .array = try member.kind() {
                    vertices = try member.elements().map { try string($0, "\(what).vertices[]") }
                } else {
                    vertices = [try string(member, "\(what).vertices")]
                }
            case "weight":
                weight = try string(member, "\(what).weight")
                try Filter.validateFieldPath(weight, at: "\(what).weight")
            default:
                throw CairnError.invalidArgument("\(what).\(key): unknown field (known: edges, vertices, weight)")
            }
        }
        guard let edges else { throw CairnError.invalidArgument("\(what).edges is required: the edge collection") }
        try CollectionInfo.validate(name: edges)
        guard vertices.count <= maxVertexCollections else {
            throw CairnError.invalidArgument("\(what).vertices: at most \(maxVertexCollections) vertex collections")
        }
        for vertex in vertices { try CollectionInfo.validate(name: vertex) }
        guard !vertices.contains(edges) else { throw CairnError.invalidArgument("\(what): the edge collection cannot also be a vertex collection") }
        return GraphDefinition(name: name, edges: edges, vertices: vertices, weight: weight)
    }

    func encoded() -> [UInt8] { description.encoded() }

    /// {"name", "edges", "vertices", "weight"}, as cairn_graph_list gives it.
    var description: MutableValue {
        .object([("name", .string(Array(name.utf8))), ("edges", .string(Array(edges.utf8))),
                 ("vertices", .array(vertices.map { .string(Array($0.utf8)) })), ("weight", .string(Array(weight.utf8)))])
    }

    static func decode(name: String, _ raw: UnsafeRawBufferPointer) throws -> GraphDefinition {
        do {
            return try parse(name: name, DocumentValue(raw), what: "graph '\(name)'")
        } catch let error as CairnError where error.code == .invalidArgument {
            throw CairnError.corruption("graph '\(name)': a damaged declaration (\(error.message))")
        }
    }

    /// The adjacency index specs: out-edges by {_from, label, _to}, in-edges
    /// by {_to, label, _from}.
    static var indexSpecs: [String] {
        [#"{"keys": {"_from": 1, "label": 1, "_to": 1}, "name": "\#(outIndexName)"}"#,
         #"{"keys": {"_to": 1, "label": 1, "_from": 1}, "name": "\#(inIndexName)"}"#]
    }
}
