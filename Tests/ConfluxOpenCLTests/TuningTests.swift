import Conflux
import ConfluxCPU
import ConfluxOpenCL
import Foundation
import TestSupport
import XCTest

/// Per-device tuning of the specialized kernels: every candidate configuration computes what the CPU computes, and
/// a choice is timed once and then reused from the cache.
final class TuningTests: XCTestCase {
    override func tearDown() {
        unsetenv("CONFLUX_OPENCL_TUNING")
        unsetenv("CONFLUX_CACHE_DIR")
    }

    /// Fresh OpenCL devices, whose runtimes have tuned nothing yet.
    private func freshDevices() throws -> [any Device] {
        _ = try openCLDevices()
        return try OpenCLBackend.discover()
    }

    func testEveryCandidateConfigurationMatchesTheCPU() throws {
        let devices = try allDevices.get()
        let check = ParityCheck(reference: try devices.device(named: "cpu:0"), kernels: devices.kernels)
        let convolutions = ParityCases.all.filter { [.conv2D, .fusedConv2D].contains($0.op) }
        // conv_forward has up to six candidates (three vector widths × two channel groups), the filter gradient three.
        for candidate in 0..<6 {
            setenv("CONFLUX_OPENCL_TUNING", String(candidate), 1)
            for device in try freshDevices() {
                for parityCase in convolutions {
                    for result in try check.run(parityCase, on: device) where !result.passed {
                        XCTFail(
                            "candidate \(candidate): \(result.op) \(result.name) on \(result.device): \(result.fetch) "
                                + "differs by \(result.maxAbsoluteError)")
                    }
                }
            }
        }
    }

    func testAChoiceIsTimedOnceThenReadFromTheCache() throws {
        let cache = try TemporaryDirectory()
        setenv("CONFLUX_CACHE_DIR", cache.url.path, 1)
        let devices = try allDevices.get()
        let check = ParityCheck(reference: try devices.device(named: "cpu:0"), kernels: devices.kernels)
        let parityCase = try XCTUnwrap(ParityCases.all.first { $0.op == .fusedConv2D })
        var runs: [[TuningRecord]] = []
        for _ in 0..<2 {
            let devices = try freshDevices()  // skips the test, outside XCTUnwrap, when there is no OpenCL device
            let device = try XCTUnwrap(devices.first as? OpenCLDevice)
            XCTAssertTrue(try check.run(parityCase, on: device).allSatisfy(\.passed))
            runs.append(device.tuningRecords)
        }
        XCTAssertFalse(runs[0].isEmpty)
        XCTAssertTrue(runs[0].allSatisfy { $0.timings.count > 1 }, "every candidate timed the first time")
        XCTAssertEqual(runs[1].map(\.kernel), runs[0].map(\.kernel))
        XCTAssertEqual(runs[1].map(\.choice), runs[0].map(\.choice), "the same choices, from the cache")
        XCTAssertTrue(runs[1].allSatisfy(\.timings.isEmpty), "nothing timed the second time")
    }
}
