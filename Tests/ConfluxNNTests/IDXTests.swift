import Conflux
import ConfluxNN
import Foundation
import TestSupport
import XCTest

final class IDXTests: XCTestCase {
    private var directory: TemporaryDirectory!

    override func setUpWithError() throws { directory = try TemporaryDirectory() }

    /// Writes an IDX file of unsigned bytes with the given dimensions.
    private func writeIDX(_ name: String, dims: [Int], bytes: [UInt8], gzip: Bool = false) throws {
        let url = directory.url.appendingPathComponent(name)
        try IDXFixture.file(dims: dims, bytes: bytes).write(to: url)
        if gzip { try run("/bin/gzip", [url.path]) }
    }

    private func run(_ tool: String, _ arguments: [String]) throws {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: tool)
        process.arguments = arguments
        try process.run()
        process.waitUntilExit()
    }

    private func writeSplit(_ split: String, images: Int, labels: Int, gzip: Bool) throws {
        try writeIDX(
            "\(split)-images-idx3-ubyte", dims: [images, 2, 3], bytes: (0..<(images * 6)).map { UInt8($0 * 40 % 256) },
            gzip: gzip)
        try writeIDX(
            "\(split)-labels-idx1-ubyte", dims: [labels], bytes: (0..<labels).map { UInt8($0 % 10) }, gzip: gzip)
    }

    func testReadsRawAndGzipFilesAndScalesPixels() throws {
        try writeSplit("train", images: 4, labels: 4, gzip: true)
        try writeSplit("t10k", images: 3, labels: 3, gzip: false)
        let train = try Dataset(directory: directory.url.path, split: .train)
        let test = try Dataset(directory: directory.url.path, split: .test)
        XCTAssertEqual(train.count, 4)
        XCTAssertEqual(test.count, 3)
        XCTAssertEqual(train.imageShape, [1, 2, 3])
        var first: [Float] = []
        train.appendPixels(of: 0, to: &first)
        XCTAssertEqual(Array(first.prefix(3)), [0, 40 / 255, 80 / 255])
        XCTAssertEqual(train.labels, [0, 1, 2, 3])
    }

    func testTruncatedFileIsReported() throws {
        try writeIDX("train-images-idx3-ubyte", dims: [4, 2, 3], bytes: [UInt8](repeating: 1, count: 20))
        XCTAssertThrowsError(
            try IDXFile(path: directory.url.appendingPathComponent("train-images-idx3-ubyte").path, rank: 3)
        ) {
            XCTAssertTrue(
                "\($0)".contains("is truncated: its 4×2×3 elements need 24 bytes but the file ends after 20"), "\($0)")
        }
    }

    func testCorruptGzipIsReported() throws {
        try writeIDX("t10k-labels-idx1-ubyte", dims: [300], bytes: (0..<300).map { UInt8($0 % 256) }, gzip: true)
        let path = directory.url.appendingPathComponent("t10k-labels-idx1-ubyte.gz").path
        var data = try Data(contentsOf: URL(fileURLWithPath: path))
        data = data.prefix(data.count / 2)
        try data.write(to: URL(fileURLWithPath: path))
        XCTAssertThrowsError(try IDXFile(path: path, rank: 1)) { error in
            guard case .dataFile(let reported, _) = error as? ConfluxError else { return XCTFail("\(error)") }
            XCTAssertEqual(reported, path)
        }
    }

    func testWrongMagicAndRankAreReported() throws {
        let path = directory.url.appendingPathComponent("bad").path
        try Data("not an idx file at all".utf8).write(to: URL(fileURLWithPath: path))
        XCTAssertThrowsError(try IDXFile(path: path, rank: 3)) {
            XCTAssertTrue("\($0)".contains("not an IDX file"), "\($0)")
        }
        try writeIDX("labels", dims: [3], bytes: [1, 2, 3])
        XCTAssertThrowsError(try IDXFile(path: directory.url.appendingPathComponent("labels").path, rank: 3)) {
            XCTAssertTrue("\($0)".contains("has 1 dimensions, expected 3"), "\($0)")
        }
    }

    func testHostileHeadersAreRejectedBeforeAllocating() throws {
        // Three dimensions of 2³²-1: their product overflows Int (it trapped before).
        try writeIDX("overflow", dims: [-1, -1, -1], bytes: [])
        XCTAssertThrowsError(try IDXFile(path: directory.url.appendingPathComponent("overflow").path, rank: 3)) {
            XCTAssertTrue("\($0)".contains("declares 4294967295×4294967295×4294967295 elements"), "\($0)")
        }
        // Four billion 28×28 images claimed by a 100-byte file: memory grows with the file, not the claim (3.1 TB).
        try writeIDX("claim", dims: [4_000_000_000, 28, 28], bytes: [UInt8](repeating: 7, count: 100))
        XCTAssertThrowsError(try IDXFile(path: directory.url.appendingPathComponent("claim").path, rank: 3)) {
            XCTAssertTrue(
                "\($0)".contains("need 3136000000000 bytes but the file ends after 100"), "\($0)")
        }
    }

    func testLabelsOutsideTheClassesAreReportedWithTheirIndex() throws {
        try writeSplit("train", images: 4, labels: 4, gzip: false)
        try writeIDX("train-labels-idx1-ubyte", dims: [4], bytes: [1, 2, 200, 3])
        let data = try Dataset(directory: directory.url.path, split: .train)
        XCTAssertNoThrow(try data.checkLabels(below: 201))
        XCTAssertThrowsError(try data.checkLabels(below: 10)) {
            XCTAssertTrue(
                "\($0)".hasSuffix(
                    "train-labels-idx1-ubyte: label 200 of example 2 is outside the model's 10 classes (0...9); "
                        + "pass --classes N if the data set has more"), "\($0)")
        }
    }

    func testImageAndLabelCountsMustAgree() throws {
        try writeSplit("train", images: 4, labels: 5, gzip: false)
        XCTAssertThrowsError(try Dataset(directory: directory.url.path, split: .train)) {
            XCTAssertTrue("\($0)".contains("has 5 labels but the images file has 4 images"), "\($0)")
        }
    }

    func testMissingDirectoryNamesTheFile() throws {
        XCTAssertThrowsError(try Dataset(directory: "/nonexistent", split: .test)) {
            XCTAssertTrue("\($0)".hasPrefix("/nonexistent/t10k-images-idx3-ubyte[.gz]: no such file"), "\($0)")
        }
    }

    func testBatchesCoverEveryExampleOnceInASeededOrder() {
        let data = Dataset(bytes: (0..<10).map(UInt8.init), labels: (0..<10).map(Int32.init), rows: 1, cols: 1)
        let order = { (seed: UInt64) in Batches(data, size: 4, shuffleSeed: seed).flatMap(\.labels.ints) }
        XCTAssertEqual(order(1).sorted(), (0..<10).map(Int32.init))
        XCTAssertEqual(order(1), order(1))
        XCTAssertNotEqual(order(1), order(2))
        XCTAssertEqual(Batches(data, size: 4, shuffleSeed: nil).map(\.count), [4, 4, 2])
    }
}
