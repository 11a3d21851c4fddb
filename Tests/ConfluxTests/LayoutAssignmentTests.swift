import ConfluxCPU
import TestSupport
import XCTest

@testable import Conflux

/// Which tensors stay channels-last between the CPU's oneDNN convolutions, on hand-built graphs after fusion as a
/// plan makes them, and that such a plan computes what a plain one does.
final class LayoutAssignmentTests: XCTestCase {
    /// A residual block (two 3×3 convolutions, the second adding the block's input before its ReLU), a max
    /// pooling, and a 1×1 convolution whose output is fetched.
    private struct Block {
        let graph = Graph(seed: 3)
        let x: Tensor, first: Tensor, second: Tensor, pool: Tensor, y: Tensor

        init() throws {
            let graph = graph
            func weights(_ shape: Shape) throws -> Tensor {
                try graph.variable(shape, initializer: .heUniform(fanIn: shape[1] * shape[2] * shape[3]))
            }
            func bias() throws -> Tensor { try graph.variable([32], initializer: .constant(0.05)) }
            let x = try graph.placeholder([2, 32, 12, 12], name: "x")
            let first = try relu(biasAdd(conv2d(x, weights([32, 32, 3, 3]), padding: .same), bias()))
            let second = try relu(add(biasAdd(conv2d(first, weights([32, 32, 3, 3]), padding: .same), bias()), first))
            let pool = try maxPool2d(second, size: 2)
            (self.x, self.first, self.second, self.pool) = (x, first, second, pool)
            y = try conv2d(pool, weights([16, 32, 1, 1]))
        }

        /// The assignment for a run of `fetches` on `cpu`, after fusion, keeping `kept` too.
        func assignment(fetches: [Tensor], kept: [Tensor] = [], on cpu: CPUDevice) throws -> LayoutAssignment {
            let order = graph.executionOrder(roots: fetches.map(\.node.id))
            let computed = order.filter { !graph.nodes[$0].role.isSource }
            let placement = Placement(
                devices: Dictionary(uniqueKeysWithValues: graph.nodes.map { ($0.id, "cpu:0") }), reasons: [:])
            let keep = Set((fetches + kept).map(\.node.id))
            let fusion = Fusion(
                graph: graph, computed: computed, placement: placement, kept: keep, kernels: try cpuDevices().kernels,
                kind: { _ in .cpu })
            let nodes = computed.filter { !fusion.absorbed.contains($0) }.map { fusion.runner(of: $0, in: graph) }
            return LayoutAssignment(
                graph: graph, nodes: nodes, placement: placement, kept: keep, devices: ["cpu:0": cpu])
        }
    }

    func testTensorsBetweenOneDNNConvolutionsAndPoolingStayChannelsLast() throws {
        let block = try Block()
        let layouts = try block.assignment(fetches: [block.y], on: CPUDevice())
        for tensor in [block.first, block.second, block.pool] {
            XCTAssertEqual(layouts.layout(of: tensor.node.id), .channelsLast, tensor.node.name)
        }
        XCTAssertEqual(layouts.layout(of: block.y.node.id), .plain, "a fetched tensor is plain")
        XCTAssertEqual(layouts.layout(of: block.x.node.id), .plain, "a fed tensor is plain")
    }

    func testAKeptTensorIsPlainAndSoIsEverythingOfItsPooling() throws {
        let block = try Block()
        let layouts = try block.assignment(fetches: [block.y], kept: [block.second], on: CPUDevice())
        XCTAssertEqual(layouts.layout(of: block.second.node.id), .plain)
        XCTAssertEqual(layouts.layout(of: block.pool.node.id), .plain, "a pooling keeps its input's layout")
        XCTAssertEqual(layouts.layout(of: block.first.node.id), .channelsLast, "the residual slot reads either")
    }

    func testABroadcastingAddKeepsItsOperandsPlain() throws {
        let block = try Block()
        let shifted = try add(
            block.pool, block.graph.constant(HostTensor(shape: [32, 1, 1], floats: .init(repeating: 1, count: 32))))
        let y = try conv2d(shifted, block.graph.variable([8, 32, 1, 1], initializer: .constant(0.1)))
        let layouts = try block.assignment(fetches: [y], on: CPUDevice())
        XCTAssertEqual(layouts.layout(of: shifted.node.id), .plain)
        XCTAssertEqual(layouts.layout(of: block.pool.node.id), .plain)
        XCTAssertEqual(layouts.layout(of: block.second.node.id), .plain, "the pooling's input follows its output")
    }

    func testWithoutOneDNNEverythingIsPlain() throws {
        let block = try Block()
        let vectorKernels = try CPUDevice(instructionSet: CPUDevice.instructionSets[0])
        let layouts = try block.assignment(fetches: [block.y], on: vectorKernels)
        XCTAssertTrue(layouts.channelsLast.isEmpty)
    }

    /// The run with channels-last tensors inside gives what the vector kernels give on plain ones; with a
    /// projection shortcut too, whose output's buffer the fused convolution takes over (`PlanBuilder`).
    func testAChannelsLastRunComputesWhatAPlainRunDoes() throws {
        let block = try Block()
        let g = block.graph
        let projection = try conv2d(block.pool, g.variable([32, 32, 1, 1], initializer: .heUniform(fanIn: 32)))
        let z = try relu(
            add(
                conv2d(block.pool, g.variable([32, 32, 3, 3], initializer: .heUniform(fanIn: 288)), padding: .same),
                projection))
        let kernels = try cpuDevices().kernels
        let x = randomTensor(block.x.shape, seed: 11)
        var outputs: [[[Float]]] = []
        for device in [try CPUDevice(), try CPUDevice(instructionSet: CPUDevice.instructionSets[0])] {
            let session = Session(graph: g, device: device, kernels: kernels)
            outputs.append(try session.run([block.y], feeds: [block.x: x]).map(\.floats))
            outputs[outputs.count - 1] += try session.run([z], feeds: [block.x: x]).map(\.floats)
        }
        for (oneDNN, plain) in zip(outputs[0], outputs[1]) {
            XCTAssertTrue(oneDNN.contains { $0 != 0 })
            assertClose(oneDNN, plain, relative: 1e-4, absolute: 1e-4, "oneDNN channels-last against plain")
        }
    }
}
