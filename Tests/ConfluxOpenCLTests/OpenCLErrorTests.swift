import Conflux
import TestSupport
import XCTest

/// What an OpenCL device reports when a value or its memory gives out. Its kernels' results are checked against the
/// CPU in `ParityTests` (every op, forward and backward, on the cases of `ParityCases`).
final class OpenCLErrorTests: XCTestCase {
    func testOutOfRangeLabelIsReportedAtTheFetch() throws {
        for device in try openCLDevices() {
            let devices = try allDevices.get()
            let graph = Graph()
            let logits = try graph.placeholder([2, 3])
            let labels = try graph.placeholder([2], .int32)
            let loss = try mean(softmaxCrossEntropy(logits: logits, labels: labels))
            let session = Session(graph: graph, device: device, kernels: devices.kernels)
            XCTAssertThrowsError(
                try session.run(loss, feeds: [logits: .zeros([2, 3]), labels: HostTensor(shape: [2], ints: [0, 5])])
            ) {
                XCTAssertTrue("\($0)".contains("label 5 at row 1 is outside"), "\($0)")
            }
            let fine = try session.run(
                loss, feeds: [logits: .zeros([2, 3]), labels: HostTensor(shape: [2], ints: [0, 2])])
            XCTAssertEqual(fine.scalarValue, log(3), accuracy: 1e-6, "the error is cleared after it is reported")
        }
    }

    /// Each checking node has its own data-check slot: the error names the node whose labels failed, in the words
    /// the CPU uses for the same failure.
    func testDataChecksNameTheFailingNodeAsTheCPUDoes() throws {
        let devices = try allDevices.get()
        for device in try openCLDevices() {
            let graph = Graph()
            let logits = try graph.placeholder([2, 3])
            let (good, bad) = (try graph.placeholder([2], .int32), try graph.placeholder([2], .int32))
            let first = try softmaxCrossEntropy(logits: logits, labels: good)
            let second = try softmaxCrossEntropy(logits: logits, labels: bad)
            let feeds: [Tensor: HostTensor] = [
                logits: .zeros([2, 3]), good: HostTensor(shape: [2], ints: [0, 2]),
                bad: HostTensor(shape: [2], ints: [-1, 1]),
            ]
            var messages: [String] = []
            for on in [device, try devices.device(named: "cpu:0")] {
                let session = Session(graph: graph, device: on, kernels: devices.kernels)
                XCTAssertThrowsError(try session.run([first, second], feeds: feeds)) { messages.append("\($0)") }
            }
            XCTAssertEqual(messages.count, 2)
            XCTAssertEqual(messages.first, messages.last, "the same words on \(device.id) and the CPU")
            XCTAssertTrue(messages[0].contains(second.name) && messages[0].contains("label -1 at row 0"), messages[0])
        }
    }

    /// A Gather index out of range goes through the same data checks, in the CPU's words.
    func testGatherIndexOutOfRangeIsReportedAsTheCPUDoes() throws {
        let devices = try allDevices.get()
        for device in try openCLDevices() {
            let graph = Graph()
            let (data, indices) = (try graph.placeholder([4, 3]), try graph.placeholder([3], .int32))
            let rows = try gather(data, indices)
            let feeds: [Tensor: HostTensor] = [
                data: .zeros([4, 3]), indices: HostTensor(shape: [3], ints: [0, -4, 4]),
            ]
            var messages: [String] = []
            for on in [device, try devices.device(named: "cpu:0")] {
                let session = Session(graph: graph, device: on, kernels: devices.kernels)
                XCTAssertThrowsError(try session.run(rows, feeds: feeds)) { messages.append("\($0)") }
            }
            XCTAssertEqual(messages.first, messages.last, "the same words on \(device.id) and the CPU")
            XCTAssertTrue(messages[0].contains("index 4 at position 2 is outside −4..<4"), messages[0])
        }
    }

    func testOutOfMemoryNamesTheTensorAndItsSize() throws {
        for device in try openCLDevices() {
            XCTAssertThrowsError(try device.allocate(byteCount: 1 << 42, for: "conv1/Conv2D")) {
                XCTAssertEqual(
                    "\($0)",
                    "\(device.id) is out of memory allocating 4398046511104 bytes for 'conv1/Conv2D'; try a smaller batch size"
                )
            }
        }
    }
}
