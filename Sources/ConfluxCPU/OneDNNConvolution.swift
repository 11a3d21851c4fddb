import CDNNL
import Conflux
import Foundation

/// Forward convolutions through oneDNN's JIT kernels where it has one for this processor and shape (brgconv and
/// jit on AVX-512 and AVX2): up to three and a half times the direct vector kernels (ResNet-18's 512-channel
/// layers at batch 1).
///
/// Tensors stay NCHW between ops: a call reorders its input into the layout the kernel chose and its output back,
/// a few percent of the convolution. The filters' reorder costs more than the convolution itself at batch 1, so
/// it is kept while the filters are a persistent tensor (`KernelContext.persistentInputs`) that nothing has
/// written since (`CPUStorage.writes`).
///
/// The work is split across the device's workers, by images or else by output channels, each worker running a
/// primitive of its own on one thread: oneDNN's OpenMP threads never compete with the workers for the cores.
final class OneDNNConvolution {
    /// What a plan is made for.
    struct Key: Hashable {
        let geometry: WindowGeometry
        let outChannels: Int
        let bias: Bool
        let relu: Bool
    }

    /// One worker's share: its images and output channels, the primitive that computes them, and the reorders
    /// between the plain NCHW slices and the layouts the primitive chose (nil where they are the same).
    private struct Part {
        let images: Range<Int>
        let channels: Range<Int>
        let convolution: Step
        let sourceReorder: Step?
        let weightsReorder: Step?
        let destinationReorder: Step?
        /// The input's layout the primitive chose.
        let sourceLayout: dnnl_memory_desc_t
        let sourceBytes: Int
        let weightsBytes: Int
        let destinationBytes: Int
    }

    private let key: Key
    private var geometry: WindowGeometry { key.geometry }
    private let parts: [Part]
    /// When parts split the channels: the shared input's reorder, one slice of its channels per worker (nil:
    /// one reorder, `parts[0].sourceReorder`).
    private let sourceSlices: [Step]?
    /// Whether the parts split the output channels (all read the whole input, reordered once) or the images.
    private let splitsChannels: Bool
    private let cache: Cache

    /// The plan for a convolution of `geometry` on `cpu`, made on first use; nil when oneDNN has no JIT kernel for
    /// it, when the direct vector kernels run it faster (fewer than 16 input channels: LeNet-5 trains 10 % faster
    /// on them), or when `cpu` runs the vector kernels of a named instruction set. Then the vector kernels run it.
    static func plan(
        _ geometry: WindowGeometry, outChannels: Int, bias: Bool, relu: Bool, on cpu: CPUDevice
    ) -> OneDNNConvolution? {
        guard let cache = cpu.oneDNN, geometry.groups == 1, geometry.batch > 0,
            geometry.channels >= 16 || DirectConvolution(geometry, outChannels: outChannels, on: cpu) == nil
        else { return nil }
        let key = Key(geometry: geometry, outChannels: outChannels, bias: bias, relu: relu)
        if let plan = cache.plans[key] { return plan }
        let plan = OneDNNConvolution(key, cache: cache)
        cache.plans[key] = plan
        return plan
    }

    private init?(_ key: Key, cache: Cache) {
        let (g, workers, engine) = (key.geometry, cache.streams.count, cache.engine)
        self.key = key
        self.cache = cache
        // Primitives are made for one thread: the worker that runs each.
        omp_set_num_threads(1)
        // Images, each worker reordering its own input; with fewer images than workers, output channels in whole
        // blocks of 16 per worker (the last share may be short), from one reordered input; else one part: the
        // first of these that oneDNN has kernels for.
        let (batch, channels) = (0..<g.batch, 0..<key.outChannels)
        let share = (key.outChannels + 16 * workers - 1) / (16 * workers) * 16
        var splits: [[(Range<Int>, Range<Int>)]] = [[(batch, channels)]]
        if workers > 1, share < key.outChannels {
            splits.insert(
                stride(from: 0, to: key.outChannels, by: share).map {
                    (batch, $0..<min($0 + share, key.outChannels))
                }, at: 0)
        }
        if workers > 1, g.batch >= workers {
            splits.insert(
                (0..<workers).map { (g.batch * $0 / workers..<g.batch * ($0 + 1) / workers, channels) }, at: 0)
        }
        var chosen: [Part]?
        for split in splits where chosen == nil {
            let parts = split.compactMap { Self.part(key, images: $0.0, channels: $0.1, engine: engine) }
            guard parts.count == split.count else { continue }
            // Parts that split the channels read one reordered input: they must all have chosen its layout.
            let first = parts[0].sourceLayout
            let oneLayout = parts.allSatisfy {
                var (a, b) = ($0.sourceLayout, first)
                return dnnl_memory_desc_equal(&a, &b) != 0
            }
            if split[0].0 == batch && split.count > 1 && !oneLayout { continue }
            chosen = parts
        }
        guard let parts = chosen else { return nil }
        splitsChannels = parts.count > 1 && parts[0].images == batch
        sourceSlices =
            splitsChannels && parts[0].sourceReorder != nil
            ? Self.slices(of: parts[0], geometry: g, workers: workers, engine: engine) : nil
        self.parts = parts
    }

    /// Reorders of the input's channels in whole blocks of 16, one share per worker, from plain NCHW into the
    /// part's layout; nil when the channels do not split into whole blocks or oneDNN cannot reorder slices.
    private static func slices(of part: Part, geometry g: WindowGeometry, workers: Int, engine: dnnl_engine_t)
        -> [Step]?
    {
        let share = (g.channels + 16 * workers - 1) / (16 * workers) * 16
        guard g.channels % 16 == 0, share < g.channels else { return nil }
        var plain = description([g.batch, g.channels, g.height, g.width], tag: dnnl_nchw)
        var chosen = part.sourceLayout
        let steps = stride(from: 0, to: g.channels, by: share).compactMap { first -> Step? in
            let sizes = dims([g.batch, min(share, g.channels - first), g.height, g.width])
            let offsets = dims([0, first, 0, 0])
            var (from, to) = (dnnl_memory_desc_t(), dnnl_memory_desc_t())
            guard dnnl_memory_desc_init_submemory(&from, &plain, sizes, offsets) == dnnl_success,
                dnnl_memory_desc_init_submemory(&to, &chosen, sizes, offsets) == dnnl_success
            else { return nil }
            return Step.reorder(from: from, to: to, engine: engine)
        }
        return steps.count == (g.channels + share - 1) / share ? steps : nil
    }

    /// The primitive for `images` × `channels` of the convolution, if oneDNN has a JIT kernel for it.
    private static func part(_ key: Key, images: Range<Int>, channels: Range<Int>, engine: dnnl_engine_t) -> Part? {
        let g = key.geometry
        let (n, k) = (images.count, channels.count)
        let (outHeight, outWidth) = (g.outHeight, g.outWidth)
        let plainSource = description([n, g.channels, g.height, g.width], tag: dnnl_nchw)
        let plainWeights = description([k, g.channels, g.kernelHeight, g.kernelWidth], tag: dnnl_oihw)
        // A channel slice of NCHW output keeps the whole tensor's strides.
        let plainDestination = description(
            [n, k, outHeight, outWidth],
            strides: [key.outChannels * outHeight * outWidth, outHeight * outWidth, outWidth, 1])
        var anySource = description([n, g.channels, g.height, g.width], tag: dnnl_format_tag_any)
        var anyWeights = description([k, g.channels, g.kernelHeight, g.kernelWidth], tag: dnnl_format_tag_any)
        var anyDestination = description([n, k, outHeight, outWidth], tag: dnnl_format_tag_any)
        var bias = description([k], tag: dnnl_x)
        var convolution = dnnl_convolution_desc_t()
        let strides = dims([g.strideHeight, g.strideWidth])
        let dilations = dims([g.dilationHeight - 1, g.dilationWidth - 1])
        let (before, after) = (dims([g.padTop, g.padLeft]), dims([g.padBottom, g.padRight]))
        let status = withUnsafePointer(to: &bias) { bias in
            dnnl_dilated_convolution_forward_desc_init(
                &convolution, dnnl_forward_inference, dnnl_convolution_direct, &anySource, &anyWeights,
                key.bias ? bias : nil, &anyDestination, strides, dilations, before, after)
        }
        guard status == dnnl_success else { return nil }
        var attributes: dnnl_primitive_attr_t?
        dnnl_primitive_attr_create(&attributes)
        defer { dnnl_primitive_attr_destroy(attributes) }
        if key.relu {
            var postOps: dnnl_post_ops_t?
            dnnl_post_ops_create(&postOps)
            dnnl_post_ops_append_eltwise(postOps, 1, dnnl_eltwise_relu, 0, 0)
            dnnl_primitive_attr_set_post_ops(attributes, postOps)
            dnnl_post_ops_destroy(postOps)
        }
        var primitiveDescription: dnnl_primitive_desc_t?
        guard dnnl_primitive_desc_create(&primitiveDescription, &convolution, attributes, engine, nil) == dnnl_success
        else { return nil }
        defer { dnnl_primitive_desc_destroy(primitiveDescription) }
        var implementation: UnsafePointer<CChar>?
        dnnl_primitive_desc_query(primitiveDescription, dnnl_query_impl_info_str, 0, &implementation)
        // Only a JIT kernel beats the vector kernels; oneDNN's reference and GEMM fallbacks do not.
        let name = implementation.map { String(cString: $0) } ?? ""
        guard name.contains("brg") || (name.contains("jit") && !name.contains("gemm")) else { return nil }
        func chosen(_ query: dnnl_query_t) -> dnnl_memory_desc_t {
            dnnl_primitive_desc_query_md(primitiveDescription, query, 0).pointee
        }
        let (source, weights, destination) = (
            chosen(dnnl_query_src_md), chosen(dnnl_query_weights_md), chosen(dnnl_query_dst_md)
        )
        var primitive: dnnl_primitive_t?
        guard dnnl_primitive_create(&primitive, primitiveDescription) == dnnl_success, let primitive else { return nil }
        var arguments = [(DNNL_ARG_SRC, source), (DNNL_ARG_WEIGHTS, weights), (DNNL_ARG_DST, destination)]
        if key.bias { arguments.append((DNNL_ARG_BIAS, bias)) }
        guard let step = Step(primitive, arguments, engine: engine) else { return nil }
        return Part(
            images: images, channels: channels, convolution: step,
            sourceReorder: Step.reorder(from: plainSource, to: source, engine: engine),
            weightsReorder: Step.reorder(from: plainWeights, to: weights, engine: engine),
            destinationReorder: Step.reorder(from: destination, to: plainDestination, engine: engine),
            sourceLayout: source, sourceBytes: size(source), weightsBytes: size(weights),
            destinationBytes: size(destination))
    }

    /// y = conv(x, w) + bias, then ReLU when the plan says so. `persistentWeights`: `w` is a persistent tensor,
    /// whose reorder may be kept.
    func forward(
        _ x: DeviceTensor, _ w: DeviceTensor, bias: UnsafePointer<Float>?, into y: DeviceTensor,
        persistentWeights: Bool, on cpu: CPUDevice
    ) {
        let g = geometry
        let imageSize = g.channels * g.height * g.width
        let outPlane = g.outHeight * g.outWidth
        let filterSize = g.channels * g.kernelHeight * g.kernelWidth
        let outChannels = w.shape[0]
        omp_set_num_threads(1)
        // Parts that split the channels share one reordered input.
        var sharedSource: UnsafeMutableRawPointer?
        if splitsChannels, let reorder = parts[0].sourceReorder {
            let memory = UnsafeMutableRawPointer(cpu.sharedScratch(count: parts[0].sourceBytes / 4))
            if let slices = sourceSlices {
                // A slice's memory is the whole tensor's, at the slice's offset within it.
                cpu.parallelChunks(slices.count, serialBelow: 2) { worker, indices in
                    omp_set_num_threads(1)
                    for index in indices { slices[index].run([x.raw, memory], on: cache.streams[worker]) }
                }
            } else {
                reorder.run([x.raw, memory], on: cache.streams[0])
            }
            sharedSource = memory
        }
        let weights = parts.indices.map { index in
            filters(w, part: index, persistent: persistentWeights, filterSize: filterSize)
        }
        cpu.parallelChunks(parts.count, serialBelow: 2) { worker, indices in
            omp_set_num_threads(1)
            let stream = cache.streams[worker]
            for index in indices {
                let part = parts[index]
                let input = x.raw + part.images.lowerBound * imageSize * 4
                var source = sharedSource ?? input
                if sharedSource == nil, let reorder = part.sourceReorder {
                    source = UnsafeMutableRawPointer(cpu.scratch(worker: worker, slot: 0, count: part.sourceBytes / 4))
                    reorder.run([input, source], on: stream)
                }
                let output = y.raw + (part.images.lowerBound * outChannels + part.channels.lowerBound) * outPlane * 4
                let destination =
                    part.destinationReorder == nil
                    ? output
                    : UnsafeMutableRawPointer(cpu.scratch(worker: worker, slot: 1, count: part.destinationBytes / 4))
                var buffers = [source, weights[index].memory, destination]
                if let bias { buffers.append(UnsafeMutableRawPointer(mutating: bias + part.channels.lowerBound)) }
                part.convolution.run(buffers, on: stream)
                part.destinationReorder?.run([destination, output], on: stream)
            }
        }
        withExtendedLifetime(weights) {}
    }

    /// The filters of part `index` in its layout, and what keeps their memory alive: kept from an earlier call
    /// while `w` is persistent and unwritten, else reordered for this call.
    private func filters(_ w: DeviceTensor, part index: Int, persistent: Bool, filterSize: Int)
        -> (memory: UnsafeMutableRawPointer, owner: ReorderedFilters?)
    {
        let part = parts[index]
        let plain = w.raw + part.channels.lowerBound * filterSize * 4
        guard let reorder = part.weightsReorder else { return (plain, nil) }
        let storage = unsafeDowncast(w.storage, to: CPUStorage.self)
        // Keyed by plan too: plans of one geometry (with and without a ReLU) may choose different layouts.
        let key = FiltersKey(storage: ObjectIdentifier(storage), plan: self.key, part: index)
        if persistent, let kept = cache.filters[key], kept.storage === storage, kept.writes == storage.writes {
            return (kept.memory, kept)
        }
        let filters = ReorderedFilters(storage: storage, bytes: part.weightsBytes)
        reorder.run([plain, filters.memory], on: cache.streams[0])
        if persistent {
            // Filters of tensors that are gone are dropped as new ones are kept.
            cache.filters = cache.filters.filter { $0.value.storage != nil }
            cache.filters[key] = filters
        }
        return (filters.memory, filters)
    }
}

extension OneDNNConvolution {
    /// A CPU device's oneDNN engine, a stream per worker, its plans, and the filters it keeps reordered. Used by
    /// one kernel at a time, as the device runs them.
    final class Cache {
        let engine: dnnl_engine_t
        let streams: [dnnl_stream_t]
        fileprivate var plans: [Key: OneDNNConvolution?] = [:]
        fileprivate var filters: [FiltersKey: ReorderedFilters] = [:]

        /// Nil when oneDNN finds no CPU engine.
        init?(workers: Int) {
            var engine: dnnl_engine_t?
            guard dnnl_engine_create(&engine, dnnl_cpu, 0) == dnnl_success, let engine else { return nil }
            self.engine = engine
            streams = (0..<workers).compactMap { _ in
                var stream: dnnl_stream_t?
                dnnl_stream_create(&stream, engine, dnnl_stream_default_flags.rawValue)
                return stream
            }
            guard streams.count == workers else { return nil }
        }

        deinit {
            // The primitives and memories go first, then what they were made on.
            plans = [:]
            filters = [:]
            for stream in streams { dnnl_stream_destroy(stream) }
            dnnl_engine_destroy(engine)
        }
    }

    fileprivate struct FiltersKey: Hashable {
        let storage: ObjectIdentifier
        let plan: Key
        let part: Int
    }

    /// Filters reordered into a part's layout, and the tensor and write count they were reordered from.
    fileprivate final class ReorderedFilters {
        weak var storage: CPUStorage?
        let writes: UInt64
        let memory: UnsafeMutableRawPointer

        init(storage: CPUStorage, bytes: Int) {
            self.storage = storage
            writes = storage.writes
            memory = UnsafeMutableRawPointer.allocate(byteCount: max(bytes, 64), alignment: 64)
        }

        deinit { memory.deallocate() }
    }

    /// A primitive with a memory object per argument, made once; each run points the memories at its buffers.
    fileprivate final class Step {
        private let primitive: dnnl_primitive_t
        private let memories: [dnnl_memory_t]
        private let arguments: [dnnl_exec_arg_t]

        init?(_ primitive: dnnl_primitive_t, _ arguments: [(Int32, dnnl_memory_desc_t)], engine: dnnl_engine_t) {
            self.primitive = primitive
            memories = arguments.compactMap { _, description in
                var memory: dnnl_memory_t?
                var described = description
                return dnnl_memory_create(&memory, &described, engine, nil) == dnnl_success ? memory : nil
            }
            guard memories.count == arguments.count else { return nil }
            self.arguments = zip(arguments, memories).map { dnnl_exec_arg_t(arg: $0.0.0, memory: $0.1) }
        }

        /// A reorder between two layouts; nil when they are the same.
        static func reorder(from: dnnl_memory_desc_t, to: dnnl_memory_desc_t, engine: dnnl_engine_t) -> Step? {
            var (from, to) = (from, to)
            guard dnnl_memory_desc_equal(&from, &to) == 0 else { return nil }
            var description: dnnl_primitive_desc_t?
            dnnl_reorder_primitive_desc_create(&description, &from, engine, &to, engine, nil)
            defer { dnnl_primitive_desc_destroy(description) }
            var primitive: dnnl_primitive_t?
            guard dnnl_primitive_create(&primitive, description) == dnnl_success, let primitive else { return nil }
            return Step(primitive, [(DNNL_ARG_FROM, from), (DNNL_ARG_TO, to)], engine: engine)
        }

        /// Runs the primitive on `buffers`, one per argument in order, and waits for it.
        func run(_ buffers: [UnsafeMutableRawPointer], on stream: dnnl_stream_t) {
            for (memory, buffer) in zip(memories, buffers) { dnnl_memory_set_data_handle(memory, buffer) }
            dnnl_primitive_execute(primitive, stream, Int32(arguments.count), arguments)
            dnnl_stream_wait(stream)
        }

        deinit {
            for memory in memories { dnnl_memory_destroy(memory) }
            dnnl_primitive_destroy(primitive)
        }
    }

    /// Dimensions as oneDNN takes them (a C array of up to 12, passed as a pointer to the first).
    fileprivate static func dims(_ values: [Int]) -> [Int64] { values.map(Int64.init) }

    private static func description(_ sizes: [Int], tag: dnnl_format_tag_t) -> dnnl_memory_desc_t {
        var description = dnnl_memory_desc_t()
        dnnl_memory_desc_init_by_tag(&description, Int32(sizes.count), dims(sizes), dnnl_f32, tag)
        return description
    }

    private static func description(_ sizes: [Int], strides: [Int]) -> dnnl_memory_desc_t {
        var description = dnnl_memory_desc_t()
        dnnl_memory_desc_init_by_strides(&description, Int32(sizes.count), dims(sizes), dnnl_f32, dims(strides))
        return description
    }

    private static func size(_ description: dnnl_memory_desc_t) -> Int {
        withUnsafePointer(to: description) { Int(dnnl_memory_desc_get_size($0)) }
    }
}
