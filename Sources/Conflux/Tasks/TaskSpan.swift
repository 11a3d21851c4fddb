/// The tasks a plan spans, as one of them sees it: device names of its own task are plain (`cpu:0`), the others'
/// qualified (`task:1/cpu:0`).
public struct TaskSpan: Sendable, Equatable {
    /// The task that plans.
    public let own: Int
    /// The tasks of the job.
    public let count: Int

    public init(own: Int, count: Int) {
        self.own = own
        self.count = count
    }

    /// The task of the device named `device`.
    public func task(of device: String) -> Int { TaskDeviceName.split(device).task ?? own }

    /// Where fetched values are delivered on `task`: its first CPU, which every task has.
    public func home(of task: Int) -> String { TaskDeviceName.local("task:\(task)/cpu:0", task: own) }
}

extension TaskSpan {
    /// The tasks of a run on `devices`; nil when all are this process's own.
    public init?(devices: some Collection<any Device>) {
        guard let remote = devices.lazy.compactMap({ $0 as? RemoteDevice }).first else { return nil }
        self.init(own: remote.transport.task, count: remote.transport.tasks)
    }
}
