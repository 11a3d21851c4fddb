import ConfluxNN
import ConfluxTensorBoard
import Dispatch
import Foundation

extension SummaryWriter {
    /// The per-step scalars of a training step.
    func scalars(_ report: StepReport) throws {
        try scalar("loss", Double(report.loss), step: report.globalStep)
        try scalar("accuracy", Double(report.accuracy), step: report.globalStep)
        try scalar("learning_rate", Double(report.learningRate), step: report.globalStep)
        try scalar("images_per_second", report.imagesPerSecond, step: report.globalStep)
    }
}

/// Runs `flush` when the user presses Ctrl-C, then exits with the usual status for SIGINT, so that what was
/// logged is on disk.
final class FlushOnInterrupt {
    private let source: DispatchSourceSignal

    init(_ flush: @escaping () -> Void) {
        signal(SIGINT, SIG_IGN)
        source = DispatchSource.makeSignalSource(signal: SIGINT, queue: .global())
        source.setEventHandler {
            flush()
            exit(130)
        }
        source.resume()
    }

    func cancel() {
        source.cancel()
        signal(SIGINT, SIG_DFL)
    }
}
