import COpenCL
import Conflux
import TestSupport
import XCTest

@testable import ConfluxOpenCL

/// Tensors cross between OpenCL devices by each route, and staged feeds reach a device ahead of their run.
final class TransferTests: XCTestCase {
    /// relu(x) on `first`, then tanh and an add on `second`, then sigmoid back on `first`: two crossings, one of
    /// them with two consumers. Returns what the placed run computes and what the CPU computes.
    private func crossing(_ first: any Device, _ second: any Device, tracer: Tracer) throws -> (
        [HostTensor], [HostTensor]
    ) {
        let g = Graph()
        let x = try g.placeholder([37, 53])
        let y = try g.device(first.id) { try relu(x) }
        let z = try g.device(second.id) { try add(tanh(y), y) }
        let out = try g.device(first.id) { try sigmoid(z) }
        let devices = try allDevices.get()
        let session = try requestedPlacementSession(g, devices: [first, second], kernels: devices.kernels)
        session.tracer = tracer
        let feeds = [x: randomTensor([37, 53], seed: 8)]
        let reference = try Session(graph: g, device: devices.device(named: "cpu:0"), kernels: devices.kernels)
        return (try session.run([out, z], feeds: feeds), try reference.run([out, z], feeds: feeds))
    }

    private func assertMatches(_ actual: [HostTensor], _ expected: [HostTensor], _ label: String) {
        for (a, e) in zip(actual, expected) {
            // tanh and sigmoid of PoCL's math library differ from Swift's in the last bits.
            assertClose(a.floats, e.floats, relative: 1e-6, absolute: 1e-6, label)
        }
    }

    func testDevicesOfOnePlatformCopyDeviceToDevice() throws {
        let devices = try openCLDevices()
        guard devices.count >= 2, devices[1].sharesMemory(with: devices[0]) else {
            throw XCTSkip(
                "needs two OpenCL devices of one platform; scripts/test.sh runs this with POCL_DEVICES='pthread pthread'"
            )
        }
        let tracer = Tracer()
        let (actual, expected) = try crossing(devices[0], devices[1], tracer: tracer)
        assertMatches(actual, expected, "\(devices[0].id) ⇄ \(devices[1].id), device to device")
        let streams = Set(tracer.spans.map(\.stream))
        XCTAssertTrue(streams.contains("\(devices[0].id) → \(devices[1].id) transfer"), "\(streams)")
        XCTAssertTrue(streams.contains("\(devices[1].id) → \(devices[0].id) transfer"), "\(streams)")
    }

    func testDevicesOfSeparateContextsCopyThroughPinnedStaging() throws {
        // The same hardware opened a second time, in a context of its own: its buffers are not opencl:0's, so
        // tensors must cross through the host.
        let found = try openCLDevices().first
        let first = try XCTUnwrap(found as? OpenCLDevice)
        let platform = try XCTUnwrap(CLInfo.platforms().first)
        let id = try XCTUnwrap(CLInfo.devices(platform).first)
        let second = OpenCLDevice(
            index: 9, platform: platform, device: id, context: CLPlatformContext(devices: [id], label: "opencl:9"))
        XCTAssertFalse(second.sharesMemory(with: first))
        let (actual, expected) = try crossing(first, second, tracer: Tracer())
        assertMatches(actual, expected, "\(first.id) ⇄ a second context, through pinned staging")
    }

    func testCPUAndOpenCLCopyStraightIntoEachOther() throws {
        let devices = try allDevices.get()
        for device in try openCLDevices() {
            let (actual, expected) = try crossing(devices.device(named: "cpu:0"), device, tracer: Tracer())
            assertMatches(actual, expected, "cpu:0 ⇄ \(device.id)")
        }
    }

    func testStreamedChunksFeedConsumersRowByRowOnBothSides() throws {
        let devices = try allDevices.get()
        let cpu = try devices.device(named: "cpu:0")
        for device in try openCLDevices() {
            let g = Graph()
            let x = try g.placeholder([70, 3, 9, 9])
            let filter = try g.constant(randomTensor([5, 3, 3, 3], seed: 2))
            // CPU → OpenCL into a convolution, then OpenCL → CPU into a pool.
            let activated = try g.device(cpu.id) { try relu(x) }
            let convolved = try g.device(device.id) { try conv2d(activated, filter) }
            let pooled = try g.device(cpu.id) { try maxPool2d(convolved, size: 2) }
            let session = try requestedPlacementSession(g, devices: [cpu, device], kernels: devices.kernels)
            session.streamingChunkBytes = 4 << 10
            let tracer = Tracer()
            session.tracer = tracer
            let feeds = [x: randomTensor([70, 3, 9, 9], seed: 5)]
            let expected = try Session(graph: g, device: cpu, kernels: devices.kernels).run(pooled, feeds: feeds)
            assertClose(
                try session.run(pooled, feeds: feeds).floats, expected.floats, relative: 1e-5, absolute: 1e-5,
                "streamed through \(device.id)")
            let names = tracer.spans.filter { $0.kind == .kernel }.map(\.name)
            XCTAssertGreaterThan(names.filter { $0.hasPrefix("Conv2D rows") }.count, 1, "\(names)")
            XCTAssertGreaterThan(names.filter { $0.hasPrefix("MaxPool rows") }.count, 1, "\(names)")
        }
    }

    /// A fused convolution reading its input chunk by chunk from another device takes the same rows of its
    /// residual (computed where it runs, the last read of it): through oneDNN (16 channels) and the vector kernels
    /// (4).
    func testAStreamedFusedConvolutionReadsItsResidualRowByRow() throws {
        let devices = try allDevices.get()
        let cpu = try devices.device(named: "cpu:0")
        for device in try openCLDevices() {
            for channels in [16, 4] {
                try checkStreamedResidual(channels: channels, from: device, to: cpu, kernels: devices.kernels)
            }
        }
    }

    private func checkStreamedResidual(
        channels: Int, from device: any Device, to cpu: any Device, kernels: KernelRegistry
    ) throws {
        let g = Graph()
        let x = try g.placeholder([40, channels, 7, 7])
        let filter = try g.constant(randomTensor([channels, channels, 3, 3], seed: 3))
        let moved = try g.device(device.id) { try relu(x) }
        let y = try g.device(cpu.id) { try relu(add(conv2d(moved, filter, padding: .same), negate(x))) }
        let session = try requestedPlacementSession(g, devices: [cpu, device], kernels: kernels)
        session.streamingChunkBytes = 4 << 10
        let tracer = Tracer()
        session.tracer = tracer
        let feeds = [x: randomTensor([40, channels, 7, 7], seed: 6)]
        let expected = try Session(graph: g, device: cpu, kernels: kernels).run(y, feeds: feeds)
        assertClose(
            try session.run(y, feeds: feeds).floats, expected.floats, relative: 1e-5, absolute: 1e-5,
            "\(channels) channels streamed from \(device.id)")
        let names = tracer.spans.filter { $0.kind == .kernel }.map(\.name)
        XCTAssertGreaterThan(names.filter { $0.contains("+Add+Relu") && $0.contains(" rows ") }.count, 1, "\(names)")
    }

    /// The training loop's pattern: batch i+1 is staged before batch i runs.
    func testStagedFeedsComputeWhatPlainFeedsCompute() throws {
        let devices = try allDevices.get()
        for device in try openCLDevices() + [devices.device(named: "cpu:0")] {
            let g = Graph()
            let x = try g.placeholder([Shape.unknown, 19])
            let labels = try g.placeholder([Shape.unknown], .int32)
            let logits = try matmul(x, g.constant(randomTensor([19, 5], seed: 3)))
            let loss = try mean(softmaxCrossEntropy(logits: logits, labels: labels))
            let session = Session(graph: g, device: device, kernels: devices.kernels)
            let plain = Session(graph: g, device: device, kernels: devices.kernels)
            let batches = (0..<5).map { i in
                // The last batch is smaller, as an epoch's last batch can be.
                let rows = i == 4 ? 7 : 16
                return [
                    x: randomTensor([rows, 19], seed: UInt64(i)),
                    labels: HostTensor(shape: [rows], ints: (0..<rows).map { Int32(($0 * 7 + i) % 5) }),
                ]
            }
            var upcoming = try session.stage(batches[0])
            for i in batches.indices {
                let current = upcoming
                if i + 1 < batches.count { upcoming = try session.stage(batches[i + 1]) }
                let staged = try session.run([loss, logits], staged: current)
                XCTAssertEqual(staged, try plain.run([loss, logits], feeds: batches[i]), "batch \(i) on \(device.id)")
            }
        }
    }

    func testStaleOrForeignStagedFeedsAreRefused() throws {
        for device in try openCLDevices() {
            let g = Graph()
            let x = try g.placeholder([4])
            let y = try relu(x)
            let session = Session(graph: g, device: device, kernels: try allDevices.get().kernels)
            let stale = try session.stage([x: randomTensor([4], seed: 1)])
            _ = try session.stage([x: randomTensor([4], seed: 2)])
            _ = try session.stage([x: randomTensor([4], seed: 3)])
            XCTAssertThrowsError(try session.run([y], staged: stale)) {
                XCTAssertTrue("\($0)".contains("stage it again"), "\($0)")
            }
            // Feeds staged by a session on another device were never sent to this one.
            let devices = try allDevices.get()
            let elsewhere = Session(graph: g, device: try devices.device(named: "cpu:0"), kernels: devices.kernels)
            XCTAssertThrowsError(try session.run([y], staged: elsewhere.stage([x: randomTensor([4], seed: 4)]))) {
                XCTAssertTrue("\($0)".contains("'\(x.name)' was not staged for \(device.id)"), "\($0)")
            }
        }
    }
}
