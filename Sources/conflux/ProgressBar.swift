import ConfluxNN
import Foundation

/// A one-line progress bar on standard error, redrawn in place; silent when standard error is not a terminal,
/// so that logs stay clean.
struct ProgressBar {
    let label: String
    private let enabled = isatty(STDERR_FILENO) != 0
    private var lastDraw = Date.distantPast

    init(label: String) { self.label = label }

    mutating func update(_ report: StepReport) {
        guard enabled, report.step == report.steps || Date().timeIntervalSince(lastDraw) > 0.1 else { return }
        lastDraw = Date()
        let width = 30
        let filled = width * report.step / max(report.steps, 1)
        let bar = String(repeating: "█", count: filled) + String(repeating: "·", count: width - filled)
        let line = String(
            format: "\r%@ %@ %d/%d  loss %.4f  %.0f img/s", label, bar, report.step, report.steps, report.loss,
            report.imagesPerSecond)
        FileHandle.standardError.write(Data(line.utf8))
    }

    /// Clears the line so the next output starts clean.
    func finish() {
        if enabled { Self.clearLine() }
    }

    /// Clears the current line of standard error when it is a terminal (a bar may be drawn there).
    static func clearLine() {
        if isatty(STDERR_FILENO) != 0 { FileHandle.standardError.write(Data("\r\u{1B}[K".utf8)) }
    }
}
