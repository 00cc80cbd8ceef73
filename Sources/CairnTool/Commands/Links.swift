import ArgumentParser
import Cairn

/// `cairn link DB KEY COLL ID [--metadata JSON]`: links a key to a document.
struct LinkCommand: DatabaseCommand {
    static let configuration = CommandConfiguration(commandName: "link", abstract: "Link a key to a document, with optional metadata.")
    @OptionGroup var common: CommonOptions
    @Argument(help: "The key (UTF-8 text).") var key: String
    @Argument(help: "The document's collection.") var collection: String
    @Argument(help: "The document's primary key as JSON: '\"a1\"', 42.") var id: String
    @Option(help: "A JSON object kept on the link.") var metadata: String?

    func run(in context: CommandContext) throws {
        try withBytes(key) { k in try withBytes(id) { i in
            if let metadata {
                try withBytes(metadata) { try context.db.link(key: k, collection: collection, idJSON: i, metadataJSON: $0) }
            } else {
                try context.db.link(key: k, collection: collection, idJSON: i, metadataJSON: nil)
            }
        } }
        if context.output.json { context.output.report(.object([("ok", .bool(true))])) }
    }
}

/// `cairn unlink DB KEY [COLL ID]`: one link, or every link of the key.
struct UnlinkCommand: DatabaseCommand {
    static let configuration = CommandConfiguration(commandName: "unlink", abstract: "Remove a key's link to a document, or all its links.")
    @OptionGroup var common: CommonOptions
    @Argument(help: "The key (UTF-8 text).") var key: String
    @Argument(help: "The document's collection; without it, every link of the key goes.") var collection: String?
    @Argument(help: "The document's primary key as JSON.") var id: String?

    func run(in context: CommandContext) throws {
        let removed: Int
        if let collection {
            guard let id else { throw ValidationError("unlink: give the document's id after its collection") }
            removed = try withBytes(key) { k in try withBytes(id) { try context.db.unlink(key: k, collection: collection, idJSON: $0) } } ? 1 : 0
        } else {
            removed = try withBytes(key) { try context.db.unlinkAll(key: $0) }
        }
        context.output.report(.object([("removed", .int(Int64(removed)))]))
    }
}

/// `cairn links DB KEY` or `cairn links DB --collection COLL --id ID`.
struct LinksCommand: DatabaseCommand {
    static let configuration = CommandConfiguration(
        commandName: "links", abstract: "List the documents a key links to, or the keys linked to a document.")
    static var readsOnly: Bool { true }
    @OptionGroup var common: CommonOptions
    @Argument(help: "The key (UTF-8 text); or give --collection and --id.") var key: String?
    @Option(help: "A document's collection.") var collection: String?
    @Option(help: "The document's primary key as JSON.") var id: String?

    func run(in context: CommandContext) throws {
        let json: [UInt8]
        switch (key, collection, id) {
        case (let key?, nil, nil):
            json = try withBytes(key) { try context.db.links(ofKey: $0) }
        case (nil, let collection?, let id?):
            json = try withBytes(id) { try context.db.links(ofDocumentIn: collection, idJSON: $0) }
        default:
            throw ValidationError("links: give a key, or --collection and --id")
        }
        guard case .array(let rows) = try JSONValue.parse(String(decoding: json, as: UTF8.self), what: "links") else { return }
        for row in rows { try context.output.document(row.serialized) }
    }
}
