/// One tensor's copy from the device that produces it to a device that reads it, with the route it takes and the
/// chunks it moves in.
///
/// The route is chosen once, when the run is planned:
/// - between devices that share memory (one OpenCL context), a device-to-device copy on the destination's
///   transfer stream, ordered after the producer by an event;
/// - from or to host memory (the CPU), one copy straight into or out of the CPU tensor;
/// - otherwise through pinned host staging: the source's transfer stream reads into it, the destination's
///   writes from it.
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
    }

    let pair: SendRecvPair
    let name: String
    let sourceDevice: any Device
    let source: DeviceTensor
    let destinationDevice: any Device
    let destination: DeviceTensor
    let route: Route
    let chunks: [Range<Int>]

    init(
        pair: SendRecvPair, name: String, from sourceDevice: any Device, _ source: DeviceTensor,
        to destinationDevice: any Device, _ destination: DeviceTensor, chunks: [Range<Int>]
    ) throws {
        self.pair = pair
        self.name = name
        self.sourceDevice = sourceDevice
        self.source = source
        self.destinationDevice = destinationDevice
        self.destination = destination
        self.chunks = chunks
        if destinationDevice.sharesMemory(with: sourceDevice) {
            route = .peer
        } else if let from = sourceDevice.hostMemory(of: source) {
            route = .fromHost(from)
        } else if let into = destinationDevice.hostMemory(of: destination) {
            route = .intoHost(into)
        } else {
            route = .staged(try destinationDevice.allocateStaging(byteCount: source.storage.byteCount))
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
        }
    }
}
