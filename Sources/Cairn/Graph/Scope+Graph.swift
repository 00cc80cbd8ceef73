/// The graph layer's public calls (include/cairn.h, "Graphs").
extension Scope {
    /// Declares graph `name` over an edge collection (GraphDefinition),
    /// creating the edge collection's adjacency indexes (and building them
    /// over the edges already there). Declaring the same graph again is a
    /// no-op; another declaration under the name is INVALID_ARGUMENT.
    /// Database only: index builds cannot run in a transaction.
    public func createGraph(_ name: String, declarationJSON: UnsafeRawBufferPointer) throws {
        let definition = try GraphDefinition.parse(name: name, json: declarationJSON)
        guard transaction == nil else { throw CairnError.invalidArgument("graphs are created on the database, not in a transaction") }
        if let existing = try withTransaction(writing: false, { try $0.graph(name) }) {
            guard existing.edges == definition.edges && existing.vertices == definition.vertices && existing.weight == definition.weight else {
                throw CairnError.invalidArgument("graph '\(name)' already exists with another declaration")
            }
        }
        for spec in GraphDefinition.indexSpecs {
            _ = try Array(spec.utf8).withUnsafeBytes { try database.createIndex(collection: definition.edges, specJSON: $0) }
        }
        try withTransaction(writing: true) { try $0.put(GraphDefinition.key(name), definition.encoded()) }
    }

    /// Removes graph `name`'s declaration, and the adjacency indexes when
    /// no other graph uses its edge collection. The documents stay.
    /// NOT_FOUND when there is no such graph. Database only.
    public func dropGraph(_ name: String) throws {
        try GraphDefinition.validate(name: name)
        guard transaction == nil else { throw CairnError.invalidArgument("graphs are dropped on the database, not in a transaction") }
        let (definition, shared) = try withTransaction(writing: true) { transaction -> (GraphDefinition, Bool) in
            guard let definition = try transaction.graph(name) else { throw CairnError(.notFound, "no graph '\(name)'") }
            try transaction.delete(GraphDefinition.key(name))
            return (definition, try transaction.graphs().contains { $0.name != name && $0.edges == definition.edges })
        }
        guard !shared, try withTransaction(writing: false, { try $0.collection(definition.edges) }) != nil else { return }
        for index in [GraphDefinition.outIndexName, GraphDefinition.inIndexName] {
            do {
                try database.dropIndex(collection: definition.edges, index: index)
            } catch let error as CairnError where error.code == .notFound {
                continue  // dropped by hand already
            }
        }
    }

    /// The declared graphs as a JSON array of {"name", "edges",
    /// "vertices", "weight"}, by name.
    public func listGraphs() throws -> String {
        let graphs = try withTransaction(writing: false) { try $0.graphs() }
        var out: [UInt8] = []
        try MutableValue.array(graphs.map(\.description)).encoded().withUnsafeBytes { try DocumentValue($0).appendJSON(to: &out) }
        return String(decoding: out, as: UTF8.self)
    }

    /// Runs a graph query (GraphQuery) at one snapshot and returns a
    /// cursor over its rows. NOT_FOUND when there is no such graph. A
    /// traversal walks as the cursor moves (its errors, a budget overrun
    /// or an interrupt, come from the cursor); the other operations run to
    /// completion first.
    public func graphQuery(_ name: String, queryJSON: UnsafeRawBufferPointer) throws -> DocumentCursor {
        try GraphDefinition.validate(name: name)
        let query = try GraphQuery.parse(json: queryJSON)
        let (rows, traversal) = try withTransaction(writing: false) { transaction -> ([MutableValue], GraphTraversal?) in
            guard let definition = try transaction.graph(name) else { throw CairnError(.notFound, "no graph '\(name)'") }
            if query.operation == .traverse { return ([], try transaction.graphTraversal(definition, query)) }
            return (try transaction.graphRows(definition, query), nil)
        }
        if let traversal {
            return DocumentCursor(database: database) { out in
                guard let row = try traversal.nextRow() else { return false }
                try row.encoded().withUnsafeBytes { try DocumentValue($0).appendJSON(to: &out) }
                return true
            }
        }
        var position = 0
        return DocumentCursor(database: database) { out in
            guard position < rows.count else { return false }
            position += 1
            try rows[position - 1].encoded().withUnsafeBytes { try DocumentValue($0).appendJSON(to: &out) }
            return true
        }
    }

    /// Deletes vertex `idJSON` (a primary key as JSON) from the graph's
    /// vertex collections together with every edge from or to it, in one
    /// transaction. Returns the number of vertices and edges deleted.
    public func deleteVertex(graph name: String, idJSON: UnsafeRawBufferPointer) throws -> (vertices: Int, edges: Int) {
        try GraphDefinition.validate(name: name)
        let id = try DocumentBuilder.value(fromJSON: idJSON, what: "vertex id")
        return try withTransaction(writing: true) { transaction in
            guard let definition = try transaction.graph(name) else { throw CairnError(.notFound, "no graph '\(name)'") }
            return try transaction.deleteVertex(definition, id: id)
        }
    }
}
