import Conflux
import Foundation
import TestSupport
import XCTest

@testable import ConfluxTensorBoard

final class TensorBoardTests: XCTestCase {
    func testCRC32CCheckValueAndMask() {
        XCTAssertEqual(CRC32C.checksum(Array("123456789".utf8)), 0xE306_9283, "the standard CRC-32C check value")
        XCTAssertEqual(CRC32C.checksum([UInt8]()), 0)
        let crc = CRC32C.checksum(Array("123456789".utf8))
        XCTAssertEqual(CRC32C.masked(Array("123456789".utf8)), ((crc >> 15) | (crc << 17)) &+ 0xA282_EAD8)
    }

    func testATruncatedLastRecordLeavesEveryEarlierOneReadable() throws {
        let directory = try TemporaryDirectory()
        let writer = try SummaryWriter(directory: directory.url.path)
        for step in 0..<6 { try writer.scalar("loss", Double(step) / 2, step: step) }
        try writer.close()
        // A crash in the middle of writing the sixth scalar: its record is cut short.
        let file = URL(fileURLWithPath: writer.path)
        let bytes = try Data(contentsOf: file)
        try bytes.prefix(bytes.count - 6).write(to: file)
        let read = try runPythonFixture("tensorboard/read_events.py", [directory.url.path])
        let loss = (read["scalars"] as? [String: [[Double]]])?["loss"]
        XCTAssertEqual(loss?.map { $0[0] }, [0, 1, 2, 3, 4])
        XCTAssertEqual(loss?.map { $0[1] }, [0, 0.5, 1, 1.5, 2])
    }

    /// Across the tasks of a job, nodes carry TensorFlow's device names, which TensorBoard colours by, and a
    /// tensor between tasks has its `_Send` on one task and its `_Recv` on the other.
    func testNodesOfTasksCarryTensorFlowsDeviceNames() throws {
        let graph = Graph()
        let x = try graph.placeholder([2, 3], name: "x")
        let y = try relu(x)
        let z = try tanh(y)
        let placement = Placement(
            devices: [x.id: "task:0/cpu:0", y.id: "task:0/cpu:0", z.id: "task:1/opencl:0"], reasons: [:])
        let nodes = GraphExport.graphDef(graph, placement: placement).node
        XCTAssertEqual(nodes.first { $0.name == z.name }?.device, "/job:worker/task:1/device:opencl:0")
        XCTAssertEqual(nodes.first { $0.op == "_Send" }?.device, "/job:worker/task:0/device:cpu:0")
        XCTAssertEqual(nodes.first { $0.op == "_Recv" }?.device, "/job:worker/task:1/device:opencl:0")
    }

    func testDotRendersWithGraphviz() throws {
        let graph = Graph()
        let x = try graph.placeholder([2, 3], name: "x")
        let y = try graph.device("opencl:0") { try relu(x) }
        let z = try tanh(y)
        let placement = Placement(devices: [x.id: "cpu:0", y.id: "opencl:0", z.id: "cpu:0"], reasons: [:])
        let directory = try TemporaryDirectory()
        let dot = directory.path("graph.dot")
        try GraphExport.dot(graph, placement: placement).write(toFile: dot, atomically: true, encoding: .utf8)
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/dot")
        process.arguments = ["-Tpng", dot, "-o", directory.path("graph.png")]
        try process.run()
        process.waitUntilExit()
        XCTAssertEqual(process.terminationStatus, 0)
        let png = try Data(contentsOf: URL(fileURLWithPath: directory.path("graph.png")))
        XCTAssertEqual(Array(png.prefix(4)), [0x89, 0x50, 0x4E, 0x47], "a PNG")
        XCTAssertTrue(try String(contentsOfFile: dot, encoding: .utf8).contains("n\(x.id) -> n\(y.id) [color=red"))
    }
}
