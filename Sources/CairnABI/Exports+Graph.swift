import CCairn
import Cairn

// Graphs (include/cairn.h, "Graphs").

@c @implementation
public func cairn_graph_create(_ db: OpaquePointer!, _ name: UnsafePointer<CChar>!, _ nameLength: Int,
                               _ declarationJSON: UnsafePointer<CChar>!, _ declarationLength: Int,
                               _ errmsg: TextOut!) -> Int32 {
    reportingStatus(errmsg) {
        try databaseOnly(db).createGraph(try text(name, nameLength, "graph name"),
                                         declarationJSON: try bytes(declarationJSON, declarationLength, "declaration_json"))
        return .ok
    }
}

@c @implementation
public func cairn_graph_drop(_ db: OpaquePointer!, _ name: UnsafePointer<CChar>!, _ nameLength: Int, _ errmsg: TextOut!) -> Int32 {
    reportingStatus(errmsg) {
        try databaseOnly(db).dropGraph(try text(name, nameLength, "graph name"))
        return .ok
    }
}

@c @implementation
public func cairn_graph_list(_ db: OpaquePointer!, _ json: TextOut!, _ jsonLength: LengthOut!, _ errmsg: TextOut!) -> Int32 {
    returningText(json, jsonLength, errmsg) { try scope(db).listGraphs() }
}

@c @implementation
public func cairn_graph_query(_ db: OpaquePointer!, _ graph: UnsafePointer<CChar>!, _ graphLength: Int,
                              _ queryJSON: UnsafePointer<CChar>!, _ queryLength: Int,
                              _ outCursor: UnsafeMutablePointer<OpaquePointer?>!, _ errmsg: TextOut!) -> Int32 {
    outCursor?.pointee = nil
    return reportingStatus(errmsg) {
        let out = try required(outCursor, "out_cursor")
        let cursor = try scope(db).graphQuery(try text(graph, graphLength, "graph name"),
                                              queryJSON: try bytes(queryJSON, queryLength, "query_json"))
        out.pointee = try HandleTable.shared.register(cursor)
        return .ok
    }
}

@c @implementation
public func cairn_graph_delete_vertex(_ db: OpaquePointer!, _ graph: UnsafePointer<CChar>!, _ graphLength: Int,
                                      _ idJSON: UnsafePointer<CChar>!, _ idLength: Int,
                                      _ verticesDeleted: UnsafeMutablePointer<Int>!, _ edgesDeleted: UnsafeMutablePointer<Int>!,
                                      _ errmsg: TextOut!) -> Int32 {
    verticesDeleted?.pointee = 0
    edgesDeleted?.pointee = 0
    return reportingStatus(errmsg) {
        let (vertices, edges) = try scope(db).deleteVertex(graph: try text(graph, graphLength, "graph name"),
                                                           idJSON: try bytes(idJSON, idLength, "id_json"))
        verticesDeleted?.pointee = vertices
        edgesDeleted?.pointee = edges
        return .ok
    }
}
