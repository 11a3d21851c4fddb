import Conflux
import ConfluxNN
import Foundation
import TestSupport
import XCTest

/// NumPy's .npy files: what NumPy wrote reads back exactly, and what Conflux writes NumPy reads.
final class NumPyFileTests: XCTestCase {
    func testReadsWhatNumPyWrote() throws {
        let input = try NumPyFile.read(fixturePath("onnx/zoo_opset9.input.npy"))
        XCTAssertEqual(input.shape, [2, 3, 15, 15])
        let reference = try SafeTensors.read(fixturePath("onnx/reference.safetensors")).tensors["zoo_opset9.input"]
        XCTAssertEqual(input.floats, reference?.floats)
        let integers = try NumPyFile.read(fixturePath("onnx/int64.npy"))
        XCTAssertEqual(integers.shape, [2, 3])
        XCTAssertEqual(integers.ints, [1, -2, 3, Int32.max, 0, Int32.min])
    }

    func testRoundTripsAndNumPyReadsIt() throws {
        let directory = try TemporaryDirectory()
        let path = directory.path("values.npy")
        let floats = HostTensor(shape: [2, 1, 3], floats: [1.5, -2, 0, 3.25, 1e-30, -7])
        try NumPyFile.encode(floats).write(to: URL(fileURLWithPath: path))
        XCTAssertEqual(try NumPyFile.read(path).floats, floats.floats)
        XCTAssertEqual(try NumPyFile.read(path).shape, floats.shape)
        let vector = HostTensor(shape: [4], ints: [7, -1, 0, 3])
        try NumPyFile.encode(vector).write(to: URL(fileURLWithPath: path))
        XCTAssertEqual(try NumPyFile.read(path).ints, vector.ints)
        let read = try runPythonFixture("onnx/read_npy.py", [path])
        XCTAssertEqual(read["dtype"] as? String, "int32")
        XCTAssertEqual(read["shape"] as? [Int], [4])
        XCTAssertEqual(read["values"] as? [Int], [7, -1, 0, 3])
    }

    func testBadFilesNameWhatIsWrong() throws {
        let directory = try TemporaryDirectory()
        let path = directory.path("bad.npy")
        let cases: [(Data, String)] = [
            (Data("not numpy".utf8), "is not a NumPy .npy file"),
            (NumPyFile.encode(HostTensor(shape: [3], floats: [1, 2, 3])).dropLast(4), "holds 8 bytes of data"),
            (
                Data([0x93] + Array("NUMPY".utf8) + [1, 0, 60, 0])
                    + Data(
                        "{'descr': '<f8', 'fortran_order': False, 'shape': (1,), }".padding(
                            toLength: 60, withPad: " ", startingAt: 0
                        ).utf8),
                "holds '<f8'"
            ),
        ]
        for (bytes, expected) in cases {
            try bytes.write(to: URL(fileURLWithPath: path))
            XCTAssertThrowsError(try NumPyFile.read(path)) {
                XCTAssertTrue("\($0)".contains(path) && "\($0)".contains(expected), "\($0)")
            }
        }
    }
}
