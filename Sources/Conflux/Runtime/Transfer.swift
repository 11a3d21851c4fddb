/// One tensor's copy from the device that produces it to a device that reads it, with the route it takes and the
/// chunks it moves in.
///
/// The route is chosen once, when the run is planned:
/// - between devices that share memory (one OpenCL context), a device-to-device copy on the destination's
///   transfer stream, ordered after the producer by an event;
/// - from or to host memory (the CPU), one copy straight into or out of the CPU tensor;
/// - otherwise through pinned host staging: the source's transfer stream reads into it, the destination's
///   writes from it;
/// - between tasks, as one message per chunk through the remote device's `TaskTransport`, from and into host
///   memory (the CPU tensor itself, or staging); a task runs only its own end, and neither end of a transfer
///   between two other tasks.
///
/// Each chunk (a range of rows, in bytes) arrives on its own, so a consumer that works row by row can start on
/// the first while the rest are in flight.
struct Transfer {
    enum Route {
        case peer
        /// The source is host memory: the destination writes straight from it.
        case fromHost(UnsafeMutableRawPointer)
        /// The destination is host memory: the source reads straight into it.
        case intoHost(UnsafeMutableRawPointer)
        case staged(HostStaging)
        /// To or from another task: the local end's host memory, and the staging that provides it, if any.
        case toTask(RemoteDevice, UnsafeMutableRawPointer, HostStaging?)
        case fromTask(RemoteDevice, UnsafeMutableRawPointer, HostStaging?)
        /// Between two other tasks: nothing to do here.
        case elsewhere
    }

    let pair: SendRecvPair
    let name: String
    let sourceDevice: any Device
    let source: DeviceTensor
    let destinationDevice: any Device
    let destination: DeviceTensor
    let route: Route
    let chunks: [Range<Int>]
    /// The tag of the first chunk's message when the transfer crosses tasks; the others follow it.
    let firstTag: Int

    init(
        pair: SendRecvPair, name: String, from sourceDevice: any Device, _ source: DeviceTensor,
        to destinationDevice: any Device, _ destination: DeviceTensor, chunks: [Range<Int>], firstTag: Int = 0
    ) throws {
        self.pair = pair
        self.name = name
        self.sourceDevice = sourceDevice
        self.source = source
        self.destinationDevice = destinationDevice
        self.destination = destination
        self.chunks = chunks
        self.firstTag = firstTag
        let bytes = source.byteCount
        switch (sourceDevice as? RemoteDevice, destinationDevice as? RemoteDevice) {
        case (.some, .some):
            route = .elsewhere
            return
        case (nil, let remote?):
            let staging =
                try sourceDevice.hostMemory(of: source) == nil ? sourceDevice.allocateStaging(byteCount: bytes) : nil
            route = .toTask(remote, staging?.pointer ?? sourceDevice.hostMemory(of: source)!, staging)
            return
        case (let remote?, nil):
            let into = destinationDevice.hostMemory(of: destination)
            let staging = try into == nil ? destinationDevice.allocateStaging(byteCount: bytes) : nil
            route = .fromTask(remote, staging?.pointer ?? into!, staging)
            return
        case (nil, nil):
            break
        }
        if destinationDevice.sharesMemory(with: sourceDevice) {
            route = .peer
        } else if let from = sourceDevice.hostMemory(of: source) {
            route = .fromHost(from)
        } else if let into = destinationDevice.hostMemory(of: destination) {
            route = .intoHost(into)
        } else {
            route = .staged(try destinationDevice.allocateStaging(byteCount: bytes))
        }
    }

    /// Starts moving chunk `index` once `produced` (the source's compute marker) and `free` (the destination's
    /// marker from before this run, after which nothing reads the old contents) have passed. Returns the event the
    /// consumer's stream waits for; nil when the chunk is already in place.
    func start(chunk index: Int, produced: (any DeviceEvent)?, free: (any DeviceEvent)?) throws -> (any DeviceEvent)? {
        let bytes = chunks[index]
        guard !bytes.isEmpty else { return nil }
        switch route {
        case .peer:
            return try destinationDevice.copy(
                source, to: destination, bytes: bytes, after: [produced, free].compactMap { $0 })
        case .fromHost(let from):
            try produced?.wait()
            return try destinationDevice.write(from + bytes.lowerBound, to: destination, bytes: bytes, after: free)
        case .intoHost(let into):
            try free?.wait()
            try sourceDevice.read(source, bytes: bytes, into: into + bytes.lowerBound, after: produced)
            return nil
        case .staged(let staging):
            let through = staging.pointer + bytes.lowerBound
            try sourceDevice.read(source, bytes: bytes, into: through, after: produced)
            return try destinationDevice.write(through, to: destination, bytes: bytes, after: free)
        case .toTask(let remote, let memory, let staging):
            let through = memory + bytes.lowerBound
            if staging != nil {
                try sourceDevice.read(source, bytes: bytes, into: through, after: produced)
            } else {
                try produced?.wait()
            }
            try remote.transport.send(through, count: bytes.count, to: remote.task, tag: firstTag + index).wait()
            return nil
        case .fromTask, .elsewhere:
            preconditionFailure("a transfer from another task starts with its receives (receiveChunks)")
        }
    }

    /// A transfer from another task: posts the receive of every chunk into host memory (nil for an empty chunk),
    /// to be landed in order.
    func receiveChunks() throws -> [(any PendingMessage)?] {
        guard case .fromTask(let remote, let memory, _) = route else { return [] }
        return try chunks.indices.map { index in
            guard !chunks[index].isEmpty else { return nil }
            return try remote.transport.receive(
                into: memory + chunks[index].lowerBound, count: chunks[index].count, from: remote.task,
                tag: firstTag + index)
        }
    }

    /// Once chunk `index` of a transfer from another task has arrived: copies it from staging into the
    /// destination once `free` has passed, returning the event its consumer waits for (nil: already in place).
    func land(chunk index: Int, free: (any DeviceEvent)?) throws -> (any DeviceEvent)? {
        guard case .fromTask(_, let memory, let staging) = route, staging != nil, !chunks[index].isEmpty else {
            return nil
        }
        let bytes = chunks[index]
        return try destinationDevice.write(memory + bytes.lowerBound, to: destination, bytes: bytes, after: free)
    }

    /// Whether this task runs the transfer's receiving end for another task's send.
    var comesFromTask: Bool {
        if case .fromTask = route { true } else { false }
    }
}
