#if canImport(Glibc)
import Glibc
#endif

/// The import's and export's progress: on a terminal (stderr) a bar
/// redrawn at most ten times a second with documents, bytes, rate and ETA;
/// otherwise nothing until the summary line.
final class Progress {
    private let verb: String
    private let totalBytes: Int64?
    private let onTerminal: Bool
    private let started = monotonicSeconds()
    private var lastDraw = 0.0
    private(set) var documents: Int64 = 0
    private var bytes: Int64 = 0

    init(verb: String, totalBytes: Int64?, quiet: Bool) {
        self.verb = verb
        self.totalBytes = totalBytes
        onTerminal = !quiet && isatty(2) == 1
    }

    var elapsed: Double { monotonicSeconds() - started }

    func update(documents: Int64, bytes: Int64) {
        self.documents = documents
        self.bytes = bytes
        guard onTerminal else { return }
        let now = monotonicSeconds()
        guard now - lastDraw >= 0.1 else { return }
        lastDraw = now
        draw(final: false)
    }

    private func draw(final: Bool) {
        let seconds = max(elapsed, 0.001)
        let rate = Double(documents) / seconds
        var text = "\r\(verb) \(documents.grouped) docs  \(Double(bytes).byteCount)"
        if let totalBytes, totalBytes > 0 {
            let fraction = min(1, Double(bytes) / Double(totalBytes))
            let width = 24, filled = Int(fraction * Double(width))
            text = "\r[" + String(repeating: "#", count: filled) + String(repeating: ".", count: width - filled) + "] \(Int(fraction * 100))% "
                + "\(documents.grouped) docs  \(Double(bytes).byteCount) of \(Double(totalBytes).byteCount)"
            let remaining = fraction > 0 ? seconds / fraction - seconds : 0
            text += "  \(Int64(rate).grouped) docs/s  ETA \(Progress.clock(final ? 0 : remaining))"
        } else {
            text += "  \(Int64(rate).grouped) docs/s  \(Progress.clock(seconds))"
        }
        text += "\u{1B}[K"
        if final { text += "\n" }
        writeStandardError(text)
    }

    /// Clears the bar (drawn complete) before the summary.
    func finish() {
        guard onTerminal else { return }
        draw(final: true)
    }

    static func clock(_ seconds: Double) -> String {
        guard seconds.isFinite, seconds < 1e7 else { return "--:--" }
        let s = Int(seconds.rounded())
        return s >= 3600 ? "\(s / 3600):\(pad2((s / 60) % 60)):\(pad2(s % 60))" : "\(s / 60):\(pad2(s % 60))"
    }

    private static func pad2(_ n: Int) -> String { n < 10 ? "0\(n)" : "\(n)" }
}

extension Int64 {
    /// 1234567 → "1,234,567".
    var grouped: String {
        let digits = String(self.magnitude)
        var out = ""
        for (i, c) in digits.enumerated() {
            if i > 0 && (digits.count - i) % 3 == 0 { out.append(",") }
            out.append(c)
        }
        return self < 0 ? "-" + out : out
    }
}
