import CDNNL
import Conflux
import Foundation

/// Forward convolutions through oneDNN's JIT kernels where it has one for this processor and shape (brgconv and
/// jit on AVX-512 and AVX2, Winograd's on AVX-512 where it pays): up to three and a half times the direct vector
/// kernels (ResNet-18's 512-channel layers at batch 1), with a fused convolution's bias, residual and ReLU or clip
/// as post-ops.
///
/// A call reorders its input from its layout (plain NCHW, or channels-last where `LayoutAssignment` kept it so)
/// into the layout the kernel chose, and its output back, unless they are the same: oneDNN's direct kernels choose
/// channels-last, so between them nothing is reordered in a channels-last chain (Winograd's choose blocks of 16
/// channels, and win enough to pay for the reorders). The filters' reorder costs more than the convolution itself
/// at batch 1, so it is kept while the filters are a persistent tensor (`KernelContext.persistentInputs`) that
/// nothing has written since (`CPUStorage.writes`).
///
/// The work is split across the device's workers, by images, else by output rows (each share of rows is a
/// convolution of the input rows it reads, padded only at the image's edges) where they split evenly or are many,
/// else by output channels, each worker running a primitive of its own on one thread: oneDNN's OpenMP threads
/// never compete with the workers for the cores (given two threads per primitive, they made MobileNetV2 three
/// times slower at batch 1).
final class OneDNNConvolution {
    /// What a plan is made for.
    struct Key: Hashable {
        let geometry: WindowGeometry
        let outChannels: Int
        let epilogue: ConvolutionEpilogue
        /// The layouts of the input, the output and the residual.
        let source: TensorLayout
        let destination: TensorLayout
        let residual: TensorLayout
    }

    /// Which images, output rows and output channels a part computes.
    private struct Share {
        let images: Range<Int>
        let rows: Range<Int>
        let channels: Range<Int>
    }

    /// One worker's share, the primitive that computes it, and the reorders between the tensors' slices and the
    /// layouts the primitive chose (nil where they are the same).
    private struct Part {
        let share: Share
        /// The input rows the output rows read.
        let inputRows: Range<Int>
        let convolution: Step
        let sourceReorder: Step?
        let weightsReorder: Step?
        let destinationReorder: Step?
        /// Copies the residual into the primitive's destination, which its sum post-op adds.
        let residualCopy: Step?
        let sourceBytes: Int
        let weightsBytes: Int
        /// The filters' layout the primitive chose.
        let weightsLayout: dnnl_memory_desc_t
        let destinationBytes: Int
        let scratchpadBytes: Int
        /// oneDNN's name for the kernel.
        let implementation: String
    }

    private let key: Key
    private let parts: [Part]
    /// For each part, the first part whose filters it reads: parts of the same channels in the same layout share
    /// one reordered copy (the workers of a batch-1 layer read one copy of its weights, not one each).
    private let filtersOwner: [Int]
    private let cache: Cache
    /// oneDNN's names for the parts' kernels (`brgconv:avx512_core`, `jit_wino_4x3:avx512_core`, …).
    var implementations: [String] { parts.map(\.implementation) }

    /// Whether oneDNN may run a convolution of `geometry` whose input has `sourceLayout`: not when `cpu` runs the
    /// vector kernels of a named instruction set, nor where the vector kernels are faster: fewer than 16 input
    /// channels (LeNet-5 trains 10 % faster on the direct kernels), and depthwise convolutions of plain inputs
    /// (which oneDNN's kernel would reorder).
    static func runs(
        _ g: WindowGeometry, outChannels: Int, sourceLayout: TensorLayout, on cpu: CPUDevice
    ) -> Bool {
        guard cpu.oneDNN != nil else { return false }
        if g.groups > 1 { return g.groups == g.channels && outChannels == g.channels && sourceLayout == .channelsLast }
        return g.channels >= 16 || DirectConvolution(g, outChannels: outChannels, on: cpu) == nil
    }

    /// The plan for a convolution of `geometry` on `cpu`, made on first use; nil where oneDNN does not run it
    /// (`runs`) or has no JIT kernel for it. Then the vector kernels run it.
    static func plan(
        _ geometry: WindowGeometry, outChannels: Int, epilogue: ConvolutionEpilogue,
        layouts: (source: TensorLayout, destination: TensorLayout, residual: TensorLayout), on cpu: CPUDevice
    ) -> OneDNNConvolution? {
        guard let cache = cpu.oneDNN, geometry.batch > 0,
            runs(geometry, outChannels: outChannels, sourceLayout: layouts.source, on: cpu)
        else { return nil }
        let key = Key(
            geometry: geometry, outChannels: outChannels, epilogue: epilogue, source: layouts.source,
            destination: layouts.destination, residual: layouts.residual)
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
        // Images per worker; with fewer images than workers, output rows where they split evenly or are many,
        // else output channels of a dense convolution in blocks of 16 (7 rows on 2 workers, 4 and 3, lose to
        // halves of the channels: ResNet-18 at batch 1 takes 9.3 ms against 8.3); else one part: the first of
        // these that oneDNN has kernels for.
        let whole = Share(images: 0..<g.batch, rows: 0..<g.outHeight, channels: 0..<key.outChannels)
        func shares(_ count: Int, _ cut: (Range<Int>) -> Share) -> [Share] {
            (0..<workers).map { cut(count * $0 / workers..<count * ($0 + 1) / workers) }
        }
        var splits = [[whole]]
        let blocks = (key.outChannels + 15) / 16
        if workers > 1, g.groups == 1, blocks >= workers {
            let channels = shares(blocks) {
                Share(
                    images: whole.images, rows: whole.rows,
                    channels: $0.lowerBound * 16..<min($0.upperBound * 16, key.outChannels))
            }
            splits.insert(channels, at: 0)
        }
        if workers > 1, g.outHeight % workers == 0 || g.outHeight >= 4 * workers || splits.count == 1 {
            splits.insert(
                shares(g.outHeight) { Share(images: whole.images, rows: $0, channels: whole.channels) }, at: 0)
        }
        if workers > 1, g.batch >= workers {
            splits.insert(shares(g.batch) { Share(images: $0, rows: whole.rows, channels: whole.channels) }, at: 0)
        }
        var chosen: [Part]?
        for split in splits where chosen == nil && split.allSatisfy({ !$0.rows.isEmpty && !$0.channels.isEmpty }) {
            let parts = split.compactMap { Self.part(key, $0, engine: engine) }
            if parts.count == split.count { chosen = parts }
        }
        guard let chosen else { return nil }
        parts = chosen
        filtersOwner = chosen.indices.map { index in
            chosen.indices.first { other in
                var (a, b) = (chosen[other].weightsLayout, chosen[index].weightsLayout)
                return chosen[other].share.channels == chosen[index].share.channels
                    && dnnl_memory_desc_equal(&a, &b) != 0
            }!
        }
    }

    /// The primitive for `share` of the convolution: Winograd's where it pays and oneDNN has it, else the direct
    /// one, if oneDNN has a JIT kernel for it.
    private static func part(_ key: Key, _ share: Share, engine: dnnl_engine_t) -> Part? {
        if winogradPays(key.geometry, share), let part = part(key, share, engine: engine, dnnl_convolution_winograd) {
            return part
        }
        return part(key, share, engine: engine, dnnl_convolution_direct)
    }

    /// Whether to ask oneDNN for a Winograd convolution (F(4×4, 3×3) or F(2×2, 3×3) on AVX-512; no kernel
    /// elsewhere, and then the direct one runs): for a dense 3×3 convolution of stride 1 whose share has at least 64
    /// tiles of 4×4 outputs to reuse each transformed filter on. It does a quarter of the multiplications (ResNet-18's
    /// 3×3 layers at batch 32 run 2.2 to 2.6 times as fast), but its filters grow fourfold in the transformed domain,
    /// and with fewer tiles reading them from memory costs more than it saves: at batch 1, ResNet-18's 56×56 layers
    /// (98 tiles a share) gain twice, its 28×28 ones (28 tiles) nothing, its 14×14 and 7×7 ones lose. Its results
    /// differ from the direct kernel's by rounding only (about 1e-6 of the output's scale).
    private static func winogradPays(_ g: WindowGeometry, _ share: Share) -> Bool {
        let tiles = share.images.count * ((share.rows.count + 3) / 4) * ((g.outWidth + 3) / 4)
        return g.isDense && g.kernelHeight == 3 && g.kernelWidth == 3 && g.strideHeight == 1 && g.strideWidth == 1
            && tiles >= 64
    }

    /// The primitive for `share` of the convolution by `algorithm`, if oneDNN has a JIT kernel for it.
    private static func part(_ key: Key, _ share: Share, engine: dnnl_engine_t, _ algorithm: dnnl_alg_kind_t)
        -> Part?
    {
        let g = key.geometry
        let (n, rows, k) = (share.images.count, share.rows, share.channels.count)
        // The input rows the output rows read, and the padding left of the image's own above and below them.
        let top = rows.lowerBound * g.strideHeight - g.padTop
        let bottom = (rows.upperBound - 1) * g.strideHeight - g.padTop + (g.kernelHeight - 1) * g.dilationHeight
        // A share whose windows all lie in the padding reads no row: no primitive for it.
        guard top < g.height, bottom >= 0 else { return nil }
        let inputRows = max(top, 0)..<min(bottom + 1, g.height)
        let (padTop, padBottom) = (max(-top, 0), max(bottom - (g.height - 1), 0))
        let sourceSizes = [n, g.channels, inputRows.count, g.width]
        let destinationSizes = [n, k, rows.count, g.outWidth]
        let weightSizes =
            g.groups > 1 ? [k, 1, 1, g.kernelHeight, g.kernelWidth] : [k, g.channels, g.kernelHeight, g.kernelWidth]
        let userSource = slice(sourceSizes, of: g.channels, height: g.height, key.source)
        let userWeights = description(weightSizes, tag: g.groups > 1 ? dnnl_goihw : dnnl_oihw)
        let userDestination = slice(destinationSizes, of: key.outChannels, height: g.outHeight, key.destination)
        var anySource = description(sourceSizes, tag: dnnl_format_tag_any)
        var anyWeights = description(weightSizes, tag: dnnl_format_tag_any)
        var anyDestination = description(destinationSizes, tag: dnnl_format_tag_any)
        var bias = description([k], tag: dnnl_x)
        var convolution = dnnl_convolution_desc_t()
        let strides = dims([g.strideHeight, g.strideWidth])
        let dilations = dims([g.dilationHeight - 1, g.dilationWidth - 1])
        let (before, after) = (dims([padTop, g.padLeft]), dims([padBottom, g.padRight]))
        let epilogue = key.epilogue
        let status = withUnsafePointer(to: &bias) { bias in
            dnnl_dilated_convolution_forward_desc_init(
                &convolution, dnnl_forward_inference, algorithm, &anySource, &anyWeights,
                epilogue.bias ? bias : nil, &anyDestination, strides, dilations, before, after)
        }
        guard status == dnnl_success else { return nil }
        var attributes: dnnl_primitive_attr_t?
        dnnl_primitive_attr_create(&attributes)
        defer { dnnl_primitive_attr_destroy(attributes) }
        var postOps: dnnl_post_ops_t?
        dnnl_post_ops_create(&postOps)
        if epilogue.residual { dnnl_post_ops_append_sum(postOps, 1) }
        switch epilogue.activation {
        case .none: break
        case .relu: dnnl_post_ops_append_eltwise(postOps, 1, dnnl_eltwise_relu, 0, 0)
        case .clip(let low, let high): dnnl_post_ops_append_eltwise(postOps, 1, dnnl_eltwise_clip, low, high)
        }
        dnnl_primitive_attr_set_post_ops(attributes, postOps)
        dnnl_post_ops_destroy(postOps)
        // The scratchpad is the worker's own: oneDNN's global one is shared by the primitives that run at once.
        dnnl_primitive_attr_set_scratchpad_mode(attributes, dnnl_scratchpad_mode_user)
        var primitiveDescription: dnnl_primitive_desc_t?
        guard dnnl_primitive_desc_create(&primitiveDescription, &convolution, attributes, engine, nil) == dnnl_success
        else { return nil }
        defer { dnnl_primitive_desc_destroy(primitiveDescription) }
        var implementation: UnsafePointer<CChar>?
        dnnl_primitive_desc_query(primitiveDescription, dnnl_query_impl_info_str, 0, &implementation)
        // Only a JIT kernel beats the vector kernels (brgconv, brdgmm_dw, jit): oneDNN's reference and GEMM
        // fallbacks do not.
        let name = implementation.map { String(cString: $0) } ?? ""
        guard ["brg", "brdgmm", "jit"].contains(where: name.hasPrefix), !name.contains("gemm:") else { return nil }
        func chosen(_ query: dnnl_query_t) -> dnnl_memory_desc_t {
            dnnl_primitive_desc_query_md(primitiveDescription, query, 0).pointee
        }
        let (source, weights, destination, scratchpad) = (
            chosen(dnnl_query_src_md), chosen(dnnl_query_weights_md), chosen(dnnl_query_dst_md),
            chosen(dnnl_query_scratchpad_md)
        )
        var primitive: dnnl_primitive_t?
        guard dnnl_primitive_create(&primitive, primitiveDescription) == dnnl_success, let primitive else { return nil }
        var arguments = [(DNNL_ARG_SRC, source), (DNNL_ARG_WEIGHTS, weights), (DNNL_ARG_DST, destination)]
        if epilogue.bias { arguments.append((DNNL_ARG_BIAS, bias)) }
        if size(scratchpad) > 0 { arguments.append((DNNL_ARG_SCRATCHPAD, scratchpad)) }
        guard let step = Step(primitive, arguments, engine: engine) else { return nil }
        let residual = slice(destinationSizes, of: key.outChannels, height: g.outHeight, key.residual)
        return Part(
            share: share, inputRows: inputRows, convolution: step,
            sourceReorder: Step.reorder(from: userSource, to: source, engine: engine),
            weightsReorder: Step.reorder(from: userWeights, to: weights, engine: engine),
            destinationReorder: Step.reorder(from: destination, to: userDestination, engine: engine),
            residualCopy: epilogue.residual
                ? Step.reorder(from: residual, to: destination, engine: engine, evenWhenEqual: true) : nil,
            sourceBytes: size(source), weightsBytes: size(weights), weightsLayout: weights,
            destinationBytes: size(destination), scratchpadBytes: size(scratchpad), implementation: name)
    }

    /// y = activation(conv(x, w) + bias + residual), as the plan's epilogue says. `persistentWeights`: `w` is a
    /// persistent tensor, whose reorder may be kept.
    func forward(
        _ x: DeviceTensor, _ w: DeviceTensor, bias: UnsafePointer<Float>?, residual: DeviceTensor?,
        into y: DeviceTensor, persistentWeights: Bool, on cpu: CPUDevice
    ) {
        omp_set_num_threads(1)
        let weights = parts.indices.map { index in
            filtersOwner[index] == index ? filters(w, part: index, persistent: persistentWeights) : nil
        }
        cpu.parallelChunks(parts.count, serialBelow: 2) { worker, indices in
            omp_set_num_threads(1)
            let stream = cache.streams[worker]
            for index in indices {
                let (part, share) = (parts[index], parts[index].share)
                /// The address of the part's first image, `row` and `channel` in a tensor of `layout`.
                func start(_ tensor: DeviceTensor, row: Int, channel: Int, _ layout: TensorLayout)
                    -> UnsafeMutableRawPointer
                {
                    let (channels, height, width) = (tensor.shape[1], tensor.shape[2], tensor.shape[3])
                    let image = share.images.lowerBound * channels * height * width
                    let offset =
                        layout == .channelsLast
                        ? row * width * channels + channel : channel * height * width + row * width
                    return tensor.raw + (image + offset) * 4
                }
                let input = start(x, row: part.inputRows.lowerBound, channel: 0, key.source)
                var source = input
                if let reorder = part.sourceReorder {
                    source = UnsafeMutableRawPointer(cpu.scratch(worker: worker, slot: 0, count: part.sourceBytes / 4))
                    reorder.run([input, source], on: stream)
                }
                let output = start(y, row: share.rows.lowerBound, channel: share.channels.lowerBound, key.destination)
                let destination =
                    part.destinationReorder == nil
                    ? output
                    : UnsafeMutableRawPointer(cpu.scratch(worker: worker, slot: 1, count: part.destinationBytes / 4))
                if let copy = part.residualCopy, let residual {
                    let from = start(
                        residual, row: share.rows.lowerBound, channel: share.channels.lowerBound, key.residual)
                    // Nothing to copy where the output took over the residual's buffer (`PlanBuilder`).
                    if from != destination { copy.run([from, destination], on: stream) }
                }
                var buffers = [source, weights[filtersOwner[index]]!.memory, destination]
                if let bias { buffers.append(UnsafeMutableRawPointer(mutating: bias + share.channels.lowerBound)) }
                if part.scratchpadBytes > 0 {
                    buffers.append(
                        UnsafeMutableRawPointer(cpu.scratch(worker: worker, slot: 2, count: part.scratchpadBytes / 4)))
                }
                part.convolution.run(buffers, on: stream)
                part.destinationReorder?.run([destination, output], on: stream)
            }
        }
        withExtendedLifetime(weights) {}
    }

    /// The filters of part `index` in its layout, and what keeps their memory alive: kept from an earlier call
    /// while `w` is persistent and unwritten, else reordered for this call.
    private func filters(_ w: DeviceTensor, part index: Int, persistent: Bool)
        -> (memory: UnsafeMutableRawPointer, owner: ReorderedFilters?)
    {
        let part = parts[index]
        let plain = w.raw + part.share.channels.lowerBound * w.shape.dims.dropFirst().reduce(4, *)
        guard let reorder = part.weightsReorder else { return (plain, nil) }
        let storage = unsafeDowncast(w.storage, to: CPUStorage.self)
        // Keyed by plan too: plans of one geometry (with and without a ReLU) may choose different layouts.
        let key = FiltersKey(storage: ObjectIdentifier(storage), plan: ObjectIdentifier(self), part: index)
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
        /// The plan, which its cache keeps as long as the filters.
        let plan: ObjectIdentifier
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

        /// A reorder between two layouts; nil when they are the same, unless `evenWhenEqual` asks for a copy.
        static func reorder(
            from: dnnl_memory_desc_t, to: dnnl_memory_desc_t, engine: dnnl_engine_t, evenWhenEqual: Bool = false
        ) -> Step? {
            var (from, to) = (from, to)
            guard evenWhenEqual || dnnl_memory_desc_equal(&from, &to) == 0 else { return nil }
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

    /// Images × channels × rows × width `sizes` of a 4-D tensor of `channels` × `height` rows (and `sizes[3]`
    /// columns) in `layout`, from the address of its first element.
    private static func slice(_ sizes: [Int], of channels: Int, height: Int, _ layout: TensorLayout)
        -> dnnl_memory_desc_t
    {
        let width = sizes[3]
        let image = channels * height * width
        let strides =
            layout == .channelsLast ? [image, 1, width * channels, channels] : [image, height * width, width, 1]
        var description = dnnl_memory_desc_t()
        dnnl_memory_desc_init_by_strides(&description, 4, dims(sizes), dnnl_f32, dims(strides))
        return description
    }

    private static func size(_ description: dnnl_memory_desc_t) -> Int {
        withUnsafePointer(to: description) { Int(dnnl_memory_desc_get_size($0)) }
    }
}
