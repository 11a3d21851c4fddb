extension DeviceSet {
    /// Places `graph` as the command line asks: everything on `device` (`cpu`, `opencl:0`), or, with `auto` or
    /// with `rules`, by the placer over every device, measuring each device's profile once (see `Calibration`).
    ///
    /// - Parameter willCalibrate: called before a device is measured for the first time.
    /// - Throws: `unknownDevice` for a name that matches no device, or whatever the placer throws.
    public func placement(
        for graph: Graph, device: String, rules: [PlacementRule] = [], willCalibrate: (any Device) -> Void = { _ in }
    ) throws -> Placement {
        let isAuto = device.lowercased() == "auto"
        let chosen = isAuto ? nil : try self.device(named: device)
        if let chosen, rules.isEmpty { return .all(on: chosen.id) }
        for rule in rules { _ = try self.device(named: rule.device) }
        let placementDevices = try devices.map { device in
            PlacementDevice(
                id: device.id, kind: device.kind,
                profile: try Calibration.profile(of: device, kernels: kernels, willMeasure: willCalibrate),
                processor: device.processor)
        }
        return try Placer(devices: placementDevices, kernels: kernels, rules: rules, defaultDevice: chosen?.id).place(
            graph)
    }

    /// The devices a placement uses.
    public func devices(of placement: Placement) -> [any Device] {
        let used = Set(placement.devices.values).union(placement.everyNode.map { [$0] } ?? [])
        return devices.filter { used.contains($0.id) }
    }
}
