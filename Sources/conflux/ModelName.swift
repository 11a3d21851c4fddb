import ArgumentParser
import ConfluxNN
import ConfluxONNX
import Foundation

/// The models the commands build: Conflux's own, or an ONNX file.
enum ModelName: ExpressibleByArgument, Equatable {
    /// LeNet-5 (`lenet5`).
    case lenet
    /// ResNet-14 with batch norm (`resnet`).
    case resnet
    /// An ONNX model file (`MODEL.onnx`): an image classifier with one logit per class.
    case onnx(path: String)

    init?(argument: String) {
        switch argument {
        case "lenet": self = .lenet
        case "resnet": self = .resnet
        case let path where path.lowercased().hasSuffix(".onnx"): self = .onnx(path: path)
        default: return nil
        }
    }

    static var allValueStrings: [String] { ["lenet", "resnet", "MODEL.onnx"] }

    var defaultValueDescription: String { name }

    /// Its name in reports and checkpoints: `lenet`, `resnet`, or the ONNX file's name.
    var name: String {
        switch self {
        case .lenet: "lenet"
        case .resnet: "resnet"
        case .onnx(let path): URL(fileURLWithPath: path).lastPathComponent
        }
    }

    /// The network, with `classes` outputs (an ONNX model has the outputs it was exported with).
    func network(classes: Int = 10) throws -> Sequential {
        switch self {
        case .lenet: lenet5(classes: classes)
        case .resnet: ConfluxNN.resnet(classes: classes)
        case .onnx(let path): Sequential([try ONNXNetwork(contentsOf: path, evaluate: try cpuEvaluator())], name: name)
        }
    }
}
