/// The search metadata MongoDB's `{"$meta": ...}` names. A find or a
/// pipeline carries each through its stages in a hidden top-level field
/// (a stored document cannot have a top-level name starting with '$'), so
/// sorts, projections and expressions read it like any field, and results
/// never show it (FindExecution, PipelineExecution remove it).
enum MetaField: String, CaseIterable {
    /// The score of a `$text` filter.
    case textScore
    /// The score of a `$search` stage.
    case searchScore
    /// The highlights of a `$search` stage with "highlight".
    case searchHighlights
    /// The score of a `$vectorSearch` stage (Vector/VectorSearchStage.swift).
    case vectorSearchScore

    var hiddenField: String {
        switch self {
        case .textScore: return TextFilter.scoreField
        case .searchScore: return "$searchScore"
        case .searchHighlights: return "$searchHighlights"
        case .vectorSearchScore: return "$vectorSearchScore"
        }
    }

    static let hiddenFields = Set(allCases.map(\.hiddenField))
}

extension MutableValue {
    /// Removes a top-level member of an object and returns its value.
    @discardableResult
    mutating func removingMember(_ name: String) -> MutableValue? {
        guard case .object(var members) = self, let position = members.firstIndex(where: { $0.key == name }) else { return nil }
        let value = members.remove(at: position).value
        self = .object(members)
        return value
    }

    /// Removes every hidden metadata field (MetaField).
    mutating func removeMetadata() {
        guard case .object(let members) = self, members.contains(where: { MetaField.hiddenFields.contains($0.key) }) else { return }
        self = .object(members.filter { !MetaField.hiddenFields.contains($0.key) })
    }
}
