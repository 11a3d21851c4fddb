import Foundation

/// Every error Conflux reports to a user: each case carries what is needed to act on it.
public enum ConfluxError: Error, CustomStringConvertible, Equatable {
    /// An op was given inputs whose shapes or types it cannot combine.
    case shapeMismatch(op: String, node: String, shapes: [Shape], reason: String)
    /// An argument to an op builder or layer is out of its valid range.
    case invalidArgument(op: String, reason: String)
    /// A placeholder the run needs was not fed.
    case missingFeed(placeholder: String, shape: Shape)
    /// A fed value does not match the placeholder it feeds.
    case feedMismatch(placeholder: String, expected: Shape, expectedType: DType, got: Shape, gotType: DType)
    /// No device has the requested name.
    case unknownDevice(requested: String, available: [String])
    /// No kernel is registered for an op on a device kind.
    case noKernel(op: String, node: String, device: String, kindsWithKernel: [String])
    /// A node asked for a device that cannot run it, and soft placement is off.
    case impossiblePlacement(op: String, node: String, requested: String, capable: [String])
    /// A graph operation has no gradient function, or the loss does not depend on a variable.
    case noGradient(op: String, node: String, reason: String)
    /// A kernel found a value it cannot compute with, such as a label out of range.
    case invalidValue(op: String, node: String, reason: String)
    /// A data file is missing, truncated or corrupt.
    case dataFile(path: String, reason: String)
    /// An OpenCL call failed.
    case openCL(call: String, status: String)
    /// An OpenCL program did not compile; `log` is the compiler's build log.
    case kernelBuild(program: String, device: String, log: String)
    /// A device could not provide memory for a tensor.
    case outOfMemory(device: String, tensor: String, bytes: Int)
    /// A file or directory cannot be written where it was asked for; `reason` says why and what to do.
    case outputFile(path: String, reason: String)
    /// Training produced a loss that is NaN or infinite.
    case nonFiniteLoss(step: Int, loss: Float)
    /// The run was stopped by a signal (SIGINT for Ctrl-C, SIGTERM) at a point where stopping was safe.
    case interrupted(signal: Int32)

    public var description: String {
        switch self {
        case .shapeMismatch(let op, let node, let shapes, let reason):
            let list = shapes.map(\.description).joined(separator: ", ")
            return "\(op) '\(node)': \(reason) (input shapes \(list))"
        case .invalidArgument(let op, let reason):
            return "\(op): \(reason)"
        case .missingFeed(let placeholder, let shape):
            return "placeholder '\(placeholder)' of shape \(shape) must be fed a value for this run"
        case .feedMismatch(let placeholder, let expected, let expectedType, let got, let gotType):
            return "placeholder '\(placeholder)' expects \(expectedType) \(expected) but was fed \(gotType) \(got)"
        case .unknownDevice(let requested, let available):
            return "no device named '\(requested)'; devices found: \(available.joined(separator: ", "))"
        case .noKernel(let op, let node, let device, let kinds):
            let alternatives =
                kinds.isEmpty ? "no device kind has one" : "kernels exist for: \(kinds.joined(separator: ", "))"
            return "no kernel for \(op) '\(node)' on \(device); \(alternatives)"
        case .impossiblePlacement(let op, let node, let requested, let capable):
            return "\(op) '\(node)' asked for \(requested), which cannot run it; devices that can: "
                + capable.joined(separator: ", ")
        case .noGradient(let op, let node, let reason):
            return "cannot differentiate \(op) '\(node)': \(reason)"
        case .invalidValue(let op, let node, let reason):
            return "\(op) '\(node)': \(reason)"
        case .dataFile(let path, let reason):
            return "\(path): \(reason)"
        case .openCL(let call, let status):
            return "\(call) failed with \(status)"
        case .kernelBuild(let program, let device, let log):
            return "OpenCL program '\(program)' failed to build for \(device):\n\(log)"
        case .outOfMemory(let device, let tensor, let bytes):
            return "\(device) is out of memory allocating \(bytes) bytes for '\(tensor)'; try a smaller batch size"
        case .outputFile(let path, let reason):
            return "cannot write \(path): \(reason)"
        case .nonFiniteLoss(let step, let loss):
            return "the loss became \(loss) at step \(step); training stopped. Lower the learning rate, or pass "
                + "--allow-nonfinite to keep going"
        case .interrupted(let signal):
            return "interrupted by \(signal == SIGTERM ? "SIGTERM" : signal == SIGINT ? "SIGINT" : "signal \(signal)")"
        }
    }
}
