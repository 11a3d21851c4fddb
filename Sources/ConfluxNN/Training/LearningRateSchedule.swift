import Foundation

/// How the learning rate changes over a training run.
public enum LearningRateSchedule: String, Sendable, CaseIterable {
    /// The optimizer's rate throughout.
    case constant
    /// From the optimizer's rate down to zero along half a cosine (Loshchilov & Hutter, 2017):
    /// lr(t) = base · (1 + cos(π·t/T)) / 2 for step t of T.
    case cosine

    /// The rate for step `step` (from 0) of a run of `steps`.
    public func rate(base: Float, step: Int, of steps: Int) -> Float {
        switch self {
        case .constant: base
        case .cosine: base * Float(1 + cos(Double.pi * Double(step) / Double(max(steps, 1)))) / 2
        }
    }
}
