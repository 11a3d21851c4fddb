/// Device names across the tasks of a job: `task:1/opencl:0` is task 1's first OpenCL device; a name without a
/// task (`cpu:0`) is the calling task's own.
public enum TaskDeviceName {
    /// The task a name is qualified with, and the device's name within it; task nil for a plain name.
    public static func split(_ name: String) -> (task: Int?, device: String) {
        let lowered = name.lowercased()
        guard lowered.hasPrefix("task:"), let slash = lowered.firstIndex(of: "/"),
            let task = Int(lowered[lowered.index(lowered.startIndex, offsetBy: 5)..<slash])
        else { return (nil, lowered) }
        return (task, String(lowered[lowered.index(after: slash)...]))
    }

    /// Whether `name` names a task (`task:R/…`).
    public static func isQualified(_ name: String) -> Bool { split(name).task != nil }

    /// `device` as task `task`'s: `task:1/cpu:0`; a name already qualified stays as it is.
    public static func qualified(_ device: String, task: Int) -> String {
        isQualified(device) ? device.lowercased() : "task:\(task)/\(device)"
    }

    /// `name` as task `task` calls it: its own devices by their plain names, other tasks' qualified.
    public static func local(_ name: String, task: Int) -> String {
        let (owner, device) = split(name)
        return owner == task ? device : name.lowercased()
    }

    /// The name TensorFlow gives a device of a task, which TensorBoard colours by: `/job:worker/task:1/device:cpu:0`.
    public static func tensorFlow(_ name: String) -> String {
        let (task, device) = split(name)
        return task.map { "/job:worker/task:\($0)/device:\(device)" } ?? "/device:\(device)"
    }
}
