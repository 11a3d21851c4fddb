import ArgumentParser
import Conflux
import ConfluxNN
import Foundation

struct PredictCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "predict",
        abstract: "Classify 28×28 grey images (PNG or PGM files, or test-set images by index) with saved weights.")

    @Argument(help: "The model the weights belong to.")
    var model: ModelName

    @Argument(help: "Image files: 28×28, grey or colour (converted to grey), PNG or PGM.")
    var images: [String] = []

    @OptionGroup var options: CommonOptions

    @OptionGroup var weights: WeightsOptions

    @Option(help: "Test-set images by index: 7, 0..9 (inclusive) or 1,5,9.")
    var index: String?

    func validate() throws {
        if images.isEmpty && index == nil { throw ValidationError("give image files, or --index into the test set") }
    }

    func run() throws {
        var inputs: [(label: String, pixels: [Float])] = []
        if let index {
            let test = try Dataset(directory: options.data, split: .test)
            for i in try Self.indices(index, count: test.count) {
                var pixels: [Float] = []
                test.appendPixels(of: i, to: &pixels)
                inputs.append(("test[\(i)] (label \(test.labels[i]))", pixels))
            }
        }
        for path in images { inputs.append((path, try ImageFile.load(path, rows: 28, cols: 28))) }

        let classes = try weights.classes()
        let run = try ModelSession(model, options: options, classes: classes)
        try weights.load(into: run)
        let batch = HostTensor(shape: [inputs.count, 1, 28, 28], floats: inputs.flatMap(\.pixels))
        let probabilities = try run.session.run(run.classifier.probabilities, feeds: [run.classifier.images: batch])
            .floats
        let names = ClassNames.names(for: options.data, classes: classes)
        var results: [Prediction] = []
        for (i, input) in inputs.enumerated() {
            let row = Array(probabilities[(i * classes)..<((i + 1) * classes)])
            let best = row.indices.max { row[$0] < row[$1] }!
            results.append(Prediction(input: input.label, predicted: best, name: names[best], probabilities: row))
        }
        if options.json {
            print(try JSONText.encode(results))
            return
        }
        for result in results {
            let top = result.probabilities.enumerated().sorted { $0.element > $1.element }.prefix(3)
                .map { String(format: "%@ %.1f%%", names[$0.offset], $0.element * 100) }.joined(separator: ", ")
            print("\(result.input): \(result.name)  (\(top))")
        }
    }

    /// Parses `7`, `0..9` (inclusive) or `1,5,9` into indices below `count`.
    static func indices(_ text: String, count: Int) throws -> [Int] {
        var result: [Int] = []
        for part in text.split(separator: ",") {
            let bounds = part.components(separatedBy: "..")
            guard (1...2).contains(bounds.count), let low = Int(bounds[0]), let high = Int(bounds.last!), low <= high
            else {
                throw ValidationError("--index: '\(part)' is not N, A..B or a comma-separated list")
            }
            guard low >= 0, high < count else {
                throw ValidationError("--index: \(part) is outside the test set's \(count) images (0..\(count - 1))")
            }
            result += Array(low...high)
        }
        return result
    }
}

/// One line of `conflux predict --json`.
struct Prediction: Encodable {
    let input: String
    let predicted: Int
    let name: String
    let probabilities: [Float]
}
