extension DeviceSet {
    /// Places `graph` as the command line asks: everything on `device` (`cpu`, `opencl:0`), or, with `auto` or
    /// with `rules`, by the placer over every device, measuring each device's profile once (see `Calibration`).
    ///
    /// - Parameter willCalibrate: called before a device is measured for the first time.
    /// - Throws: `unknownDevice` for a name that matches no device, or whatever the placer throws.
    ///
    /// In a job that spans tasks, names may be qualified by a task (`task:1/cpu:0`); other tasks' devices are
    /// placed with the profiles they measured (`RemoteDevice.profile`), and a transfer between tasks costs `link`.
    public func placement(
        for graph: Graph, device: String, rules: [PlacementRule] = [], link: TaskLink? = nil,
        willCalibrate: (any Device) -> Void = { _ in }
    ) throws -> Placement {
        let isAuto = device.lowercased() == "auto"
        let chosen = isAuto ? nil : try self.device(named: device)
        if let chosen, rules.isEmpty { return .all(on: chosen.id) }
        // A rule naming one device names it by its id here; a kind alone matches that kind on every task.
        let rules = try rules.map { rule in
            rule.device.contains(":")
                ? PlacementRule(pattern: rule.pattern, device: try self.device(named: rule.device).id) : rule
        }
        let placementDevices = try devices.map { device in
            let remote = device as? RemoteDevice
            return PlacementDevice(
                id: device.id, kind: device.kind,
                profile: try remote?.profile
                    ?? Calibration.profile(of: device, kernels: kernels, willMeasure: willCalibrate),
                processor: device.processor, task: remote?.task ?? tasks?.own ?? 0)
        }
        return try Placer(
            devices: placementDevices, kernels: kernels, rules: rules, defaultDevice: chosen?.id, link: link
        ).place(graph)
    }

    /// The devices a placement uses.
    public func devices(of placement: Placement) -> [any Device] {
        let used = Set(placement.devices.values).union(placement.everyNode.map { [$0] } ?? [])
        return devices.filter { used.contains($0.id) }
    }
}
