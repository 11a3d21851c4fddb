import ConfluxNN
import ConfluxTensorBoard
import Foundation

extension SummaryWriter {
    /// The per-step scalars of a training step.
    func scalars(_ report: StepReport) throws {
        try scalar("loss", Double(report.loss), step: report.globalStep)
        try scalar("accuracy", Double(report.accuracy), step: report.globalStep)
        try scalar("learning_rate", Double(report.learningRate), step: report.globalStep)
        try scalar("images_per_second", report.imagesPerSecond, step: report.globalStep)
    }

    /// The scalars of a finished epoch, at the step it ended on.
    func epoch(_ result: EpochResult, step: Int) throws {
        try scalar("epoch/loss", result.loss, step: step)
        try scalar("epoch/images_per_second", result.imagesPerSecond, step: step)
        try scalar("epoch/accuracy", result.accuracy, step: step)
        try scalar("epoch/learning_rate", Double(result.learningRate), step: step)
    }
}
