import TestSupport
import XCTest

@testable import Conflux

/// The fusion pass on hand-built graphs: which chains become one node, and which must not.
final class FusionTests: XCTestCase {
    private struct Network {
        let graph = Graph()
        let x: Tensor, conv: Tensor, bias: Tensor, relu: Tensor, pool: Tensor
        let dense: Tensor, denseBias: Tensor

        init() throws {
            x = try graph.placeholder([2, 3, 9, 9], name: "x")
            let w = try graph.variable([4, 3, 3, 3], initializer: .heUniform(fanIn: 27), name: "w")
            conv = try conv2d(x, w, padding: .same)
            bias = try biasAdd(conv, graph.variable([4], initializer: .constant(-0.1), name: "b"))
            relu = try Conflux.relu(bias)
            pool = try maxPool2d(relu, size: 2)
            let flat = try reshape(pool, [2, 64])
            dense = try matmul(flat, graph.variable([64, 5], initializer: .heUniform(fanIn: 64), name: "v"))
            denseBias = try biasAdd(dense, graph.variable([5], initializer: .constant(0.2), name: "c"))
        }

        func fusion(
            fetches: [Tensor], kept: [Tensor] = [], placed: [Int: String] = [:], kernels: KernelRegistry
        ) throws -> Fusion {
            FusionTests.fusion(graph, fetches: fetches, kept: kept, placed: placed, kernels: kernels)
        }
    }

    /// The pass over everything the run of `fetches` computes, on `cpu:0` unless `placed` says otherwise.
    static func fusion(
        _ graph: Graph, fetches: [Tensor], kept: [Tensor] = [], placed: [Int: String] = [:], kernels: KernelRegistry
    ) -> Fusion {
        let order = graph.executionOrder(roots: fetches.map(\.node.id))
        var devices = Dictionary(uniqueKeysWithValues: graph.nodes.map { ($0.id, "cpu:0") })
        devices.merge(placed) { $1 }
        let computed = order.filter { !graph.nodes[$0].role.isSource }
        return Fusion(
            graph: graph, computed: computed, placement: Placement(devices: devices, reasons: [:]),
            kept: Set((fetches + kept).map(\.node.id)), kernels: kernels, kind: { $0.hasPrefix("cpu") ? .cpu : .opencl }
        )
    }

    func testConvolutionBiasAndReLUBecomeOneNode() throws {
        let net = try Network()
        let fusion = try net.fusion(fetches: [net.denseBias], kernels: cpuDevices().kernels)
        let chain = try XCTUnwrap(fusion.chains[net.relu.node.id])
        XCTAssertEqual(chain.nodes, [net.conv, net.bias, net.relu].map(\.node.id))
        XCTAssertEqual(chain.node.op, .fusedConv2D)
        XCTAssertEqual(chain.node.inputs.count, 3, "x, filter and bias")
        XCTAssertEqual(chain.node.attributes.bool("relu"), true)
        XCTAssertEqual(chain.node.name, "Conv2D+BiasAdd+Relu")
        let dense = try XCTUnwrap(fusion.chains[net.denseBias.node.id])
        XCTAssertEqual(dense.node.op, .fusedMatMul)
        XCTAssertEqual(dense.node.attributes.bool("relu"), false)
        XCTAssertEqual(fusion.absorbed, Set([net.conv, net.bias, net.dense].map(\.node.id)))
    }

    func testTheReLUGradientJoinsTheMaxPoolGradientOfItsOutputOnly() throws {
        let net = try Network()
        let dy = try net.graph.placeholder(net.pool.shape, name: "dy")
        let routed = try maxPoolGrad(net.relu, dy, like: net.pool.node)
        let masked = try net.graph.addNode(.reluGrad, [net.relu, routed])
        let other = try maxPoolGrad(net.relu, dy, like: net.pool.node)
        let maskedByAnother = try net.graph.addNode(.reluGrad, [net.bias, other])
        let fusion = try net.fusion(fetches: [masked, maskedByAnother], kernels: cpuDevices().kernels)
        let chain = try XCTUnwrap(fusion.chains[masked.node.id])
        XCTAssertEqual(chain.nodes, [routed.node.id, masked.node.id])
        XCTAssertEqual(chain.node.op, .fusedMaxPoolGrad)
        XCTAssertEqual(chain.node.inputs, routed.node.inputs)
        XCTAssertNil(fusion.chains[maskedByAnother.node.id], "its ReLU output is not what was pooled")
    }

    func testAFetchedIntermediateEndsTheChain() throws {
        let net = try Network()
        let fusion = try net.fusion(fetches: [net.denseBias, net.bias], kernels: cpuDevices().kernels)
        XCTAssertEqual(fusion.chains[net.bias.node.id]?.nodes, [net.conv, net.bias].map(\.node.id))
        XCTAssertNil(fusion.chains[net.relu.node.id], "the ReLU reads a fetched tensor and runs alone")
    }

    func testATensorWithTwoReadersIsNotFused() throws {
        let net = try Network()
        let second = try add(net.bias, net.bias)
        let fusion = try net.fusion(fetches: [net.denseBias, second], kernels: cpuDevices().kernels)
        XCTAssertEqual(fusion.chains[net.bias.node.id]?.nodes, [net.conv, net.bias].map(\.node.id))
        XCTAssertFalse(fusion.absorbed.contains(net.bias.node.id), "the bias output is read twice: it must exist")
        XCTAssertNil(fusion.chains[net.relu.node.id])
    }

    func testAReaderOnAnotherDeviceOrATransferredTensorIsNotFused() throws {
        let net = try Network()
        var kernels = try cpuDevices().kernels
        for op in OpDefinition.all.keys {
            if let kernel = kernels.kernel(for: op, on: .cpu) { kernels.register(op, on: .opencl, kernel) }
        }
        let moved = try net.fusion(
            fetches: [net.denseBias], placed: [net.relu.node.id: "opencl:0"], kernels: kernels)
        XCTAssertEqual(moved.chains[net.bias.node.id]?.nodes, [net.conv, net.bias].map(\.node.id))
        XCTAssertNil(moved.chains[net.relu.node.id])
        let sent = try net.fusion(fetches: [net.denseBias], kept: [net.conv], kernels: kernels)
        XCTAssertTrue(sent.chains.values.allSatisfy { !$0.nodes.contains(net.conv.node.id) })
    }

    func testNothingFusesOnABackendWithoutTheFusedKernel() throws {
        let net = try Network()
        var kernels = KernelRegistry()
        let cpu = try cpuDevices().kernels
        for op in OpDefinition.all.keys where ![.fusedConv2D, .fusedMatMul].contains(op) {
            if let kernel = cpu.kernel(for: op, on: .cpu) { kernels.register(op, on: .cpu, kernel) }
        }
        let fusion = try net.fusion(fetches: [net.denseBias], kernels: kernels)
        XCTAssertTrue(fusion.chains.isEmpty)
        XCTAssertTrue(fusion.absorbed.isEmpty)
    }

    /// The fused plan computes what the separate ops compute: fetching every intermediate prevents all fusion.
    func testFusedAndUnfusedRunsAgree() throws {
        let net = try Network()
        let session = Session(graph: net.graph, device: try cpuDevices().devices[0], kernels: try cpuDevices().kernels)
        let x = randomTensor([2, 3, 9, 9], seed: 3)
        let fused = try session.run([net.denseBias], feeds: [net.x: x])[0].floats
        let unfused = try session.run([net.denseBias, net.conv, net.bias, net.relu, net.dense], feeds: [net.x: x])
        XCTAssertTrue(unfused[3].floats.contains(0) && unfused[3].floats.contains { $0 > 0 }, "the ReLU clips some")
        assertClose(fused, unfused[0].floats, relative: 1e-5, absolute: 1e-5, "fused against unfused")
    }

    /// ResNet's shortcut: Conv2D + BiasAdd + Add + Relu become one convolution reading the residual last; of an
    /// Add of two convolutions, the first takes it.
    func testAResidualAddAndItsReLUJoinTheConvolution() throws {
        let graph = Graph()
        let x = try graph.placeholder([1, 4, 6, 6], name: "x")
        let w = try graph.variable([4, 4, 3, 3], initializer: .constant(0.1), name: "w")
        let conv = try conv2d(x, w, padding: .same)
        let bias = try biasAdd(conv, graph.variable([4], initializer: .constant(0), name: "b"))
        let shortcut = try conv2d(x, graph.variable([4, 4, 1, 1], initializer: .constant(0.2), name: "v"))
        let sum = try add(shortcut, bias)
        let y = try relu(sum)
        let order = graph.executionOrder(roots: [y.node.id])
        let fusion = Self.fusion(graph, fetches: [y], kernels: try cpuDevices().kernels)
        let chain = try XCTUnwrap(fusion.chains[y.node.id])
        let first = order.firstIndex(of: conv.node.id)! < order.firstIndex(of: shortcut.node.id)! ? conv : shortcut
        XCTAssertEqual(chain.nodes.first, first.node.id)
        XCTAssertEqual(chain.node.attributes.bool("residual"), true)
        XCTAssertEqual(chain.node.attributes.bool("relu"), true)
        XCTAssertEqual(chain.node.inputs.last, first == conv ? shortcut.node.id : bias.node.id)
        XCTAssertEqual(fusion.chains.count, first == conv ? 1 : 2, "the other convolution keeps its own bias")
    }

    /// MobileNet's ReLU6: a Clip after the bias joins the convolution with its bounds.
    func testAClipJoinsTheConvolutionWithItsBounds() throws {
        let graph = Graph()
        let x = try graph.placeholder([1, 3, 5, 5], name: "x")
        let conv = try conv2d(x, graph.variable([8, 3, 3, 3], initializer: .constant(0.1), name: "w"))
        let y = try clip(biasAdd(conv, graph.variable([8], initializer: .constant(0), name: "b")), min: 0, max: 6)
        let fusion = Self.fusion(graph, fetches: [y], kernels: try cpuDevices().kernels)
        let chain = try XCTUnwrap(fusion.chains[y.node.id])
        XCTAssertEqual(chain.nodes.count, 3)
        XCTAssertEqual(chain.node.attributes.bool("clip"), true)
        XCTAssertEqual(chain.node.attributes.float("max"), 6)
        XCTAssertEqual(chain.node.attributes.bool("relu"), false)
    }
}
