import ArgumentParser
import Conflux
import ConfluxNN
import Foundation

struct EvalCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "eval",
        abstract: "Evaluate saved weights on the test set: accuracy, loss, accuracy per class and a confusion matrix.")

    @Argument(help: "The model the weights belong to.")
    var model: ModelName

    @OptionGroup var options: CommonOptions

    @OptionGroup var weights: WeightsOptions

    @Option(parsing: .unconditional, help: "Evaluate only the first N test images.")
    var limit: Int?

    func run() throws {
        var test = try Dataset(directory: options.data, split: .test)
        if let limit { test = test.prefix(limit) }
        let run = try ModelSession(
            model, options: options, imageShape: test.imageShape, classes: try weights.classes())
        try weights.load(into: run)
        let trainer = Trainer(classifier: run.classifier, session: run.session, seed: options.seed)
        let evaluation = try trainer.evaluate(test, batchSize: 1000)
        if options.json {
            print(
                try JSONText.encode(
                    EvaluationReport(
                        devices: run.used.map(\.id), weights: weights.weights, evaluation: evaluation,
                        classAccuracy: evaluation.classAccuracy)))
            return
        }
        print("\(weights.weights) on \(run.description), \(evaluation.count) test images")
        print(String(format: "accuracy %.2f%%  loss %.4f", evaluation.accuracy * 100, evaluation.loss))
        let names = ClassNames.names(for: options.data, classes: evaluation.confusion.count)
        print("\nclass                 accuracy")
        for (c, accuracy) in evaluation.classAccuracy.enumerated() {
            let value = accuracy.map { String(format: "%6.2f%%", $0 * 100) } ?? "     —"
            print("\(names[c].padding(toLength: 20, withPad: " ", startingAt: 0))  \(value)")
        }
        print("\nconfusion matrix (rows: true class, columns: predicted)")
        print("     " + evaluation.confusion.indices.map { String(format: "%5d", $0) }.joined())
        for (c, row) in evaluation.confusion.enumerated() {
            print(String(format: "%5d", c) + row.map { String(format: "%5d", $0) }.joined())
        }
    }
}

/// What `conflux eval --json` prints.
struct EvaluationReport: Encodable {
    let devices: [String]
    let weights: String
    let evaluation: Evaluation
    let classAccuracy: [Double?]
}

/// The names of a data set's classes: Fashion-MNIST's for its Debian directory, else the class numbers.
enum ClassNames {
    static let fashionMNIST = [
        "T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot",
    ]

    static func names(for directory: String, classes: Int) -> [String] {
        let isFashion = URL(fileURLWithPath: directory).standardized.path == Dataset.defaultDirectory && classes == 10
        return isFashion
            ? fashionMNIST.enumerated().map { "\($0.offset) \($0.element)" } : (0..<classes).map(String.init)
    }
}
