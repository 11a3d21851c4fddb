import Conflux
import ConfluxNN
import Foundation
import TestSupport
import XCTest

/// Every file format Conflux reads, fed a thousand or more mutated files each: bits flipped, bytes and integers set
/// to edge values, numbers in text headers replaced, slices cut, repeated or dropped. A loader may accept a file
/// or reject it with a `ConfluxError`; any other error fails the test, and a crash ends the test process.
final class FuzzTests: XCTestCase {
    private var directory: TemporaryDirectory!
    /// Fixed, so that a failure reproduces; the mutations differ from format to format.
    private var mutator = Mutator(seed: 2026)

    override func setUpWithError() throws { directory = try TemporaryDirectory() }

    /// Writes `count` mutations of `seed` and hands each path to `load`; returns how many loaded.
    @discardableResult
    private func fuzz(
        _ seed: Data, count: Int, name: String, file: StaticString = #filePath, line: UInt = #line,
        _ load: (String) throws -> Void
    ) throws -> Int {
        let path = directory.path(name)
        var accepted = 0
        for iteration in 0..<count {
            let mutated = mutator.mutate([UInt8](seed))
            try Data(mutated).write(to: URL(fileURLWithPath: path))
            do {
                try load(path)
                accepted += 1
            } catch is ConfluxError {
            } catch {
                XCTFail("\(name) mutation \(iteration): not a ConfluxError: \(error)", file: file, line: line)
            }
        }
        return accepted
    }

    func testNumPyFiles() throws {
        let seed = NumPyFile.encode(HostTensor(shape: [2, 3, 4], floats: (0..<24).map { Float($0) / 3 }))
        try fuzz(seed, count: 1000, name: "array.npy") { _ = try NumPyFile.read($0) }
    }

    func testIDXFiles() throws {
        let images = IDXFixture.file(dims: [5, 28, 28], bytes: (0..<(5 * 784)).map { UInt8($0 % 256) })
        let labels = IDXFixture.file(dims: [40], bytes: (0..<40).map { UInt8($0 % 10) })
        try fuzz(images, count: 1000, name: "images") { _ = try IDXFile(path: $0, rank: 3) }
        try fuzz(labels, count: 500, name: "labels") { _ = try IDXFile(path: $0, rank: 1) }
        try images.write(to: directory.url.appendingPathComponent("seed"))
        let gzip = Process()
        gzip.executableURL = URL(fileURLWithPath: "/bin/gzip")
        gzip.arguments = [directory.path("seed")]
        try gzip.run()
        gzip.waitUntilExit()
        let compressed = try Data(contentsOf: directory.url.appendingPathComponent("seed.gz"))
        try fuzz(compressed, count: 500, name: "images.gz") { _ = try IDXFile(path: $0, rank: 3) }
    }

    func testSafeTensorsFiles() throws {
        let seed = directory.path("seed.safetensors")
        try SafeTensors.write(
            [
                "conv1.weight": randomTensor([6, 1, 5, 5], seed: 1), "conv1.bias": randomTensor([6], seed: 2),
                "fc.weight": randomTensor([3, 4], seed: 3),
            ], metadata: ["epochs": "3", "model": "lenet"], to: seed)
        let accepted = try fuzz(Data(contentsOf: URL(fileURLWithPath: seed)), count: 1000, name: "fuzz.safetensors") {
            let (tensors, _) = try SafeTensors.read($0)
            for tensor in tensors.values { XCTAssertEqual(tensor.floats.count, tensor.shape.count) }
        }
        XCTAssertGreaterThan(accepted, 0, "flips inside tensor data still load")
    }

    /// Images decode the same way twice (a decoder reading uninitialised memory would not), or fail clearly.
    func testImageFiles() throws {
        let twice = { (path: String) in
            let first = try ImageFile.load(path, rows: 28, cols: 28)
            XCTAssertEqual(first, try ImageFile.load(path, rows: 28, cols: 28), path)
            XCTAssertTrue(first.allSatisfy { (0...1).contains($0) })
        }
        let png = try Data(contentsOf: URL(fileURLWithPath: fixturePath("images/gradient.png")))
        let pgm = try Data(contentsOf: URL(fileURLWithPath: fixturePath("images/gradient.pgm")))
        let plain = Data(
            ("P2\n# grey\n28 28\n255\n" + pgm.suffix(784).map(String.init).joined(separator: " ") + "\n").utf8)
        let ppm = Data("P6 28 28 255\n".utf8) + Data(pgm.suffix(784).flatMap { [$0, $0, $0] })
        for (seed, name) in [(png, "fuzz.png"), (pgm, "fuzz.pgm"), (plain, "plain.pgm"), (ppm, "fuzz.ppm")] {
            let seedPath = directory.path("seed-\(name)")
            try seed.write(to: URL(fileURLWithPath: seedPath))
            XCTAssertNoThrow(try twice(seedPath), "the seed itself loads")
            try fuzz(seed, count: name == "fuzz.png" || name == "fuzz.pgm" ? 1000 : 500, name: name, twice)
        }
    }
}
