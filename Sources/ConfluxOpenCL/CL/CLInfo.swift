import COpenCL

/// Typed reads of `clGetPlatformInfo` and `clGetDeviceInfo`.
enum CLInfo {
    static func platformString(_ platform: cl_platform_id, _ name: cl_platform_info) -> String {
        string { clGetPlatformInfo(platform, name, $0, $1, $2) }
    }

    static func deviceString(_ device: cl_device_id, _ name: cl_device_info) -> String {
        string { clGetDeviceInfo(device, name, $0, $1, $2) }
    }

    /// A string from a size-then-value info query; empty if the query fails.
    private static func string(_ query: (Int, UnsafeMutableRawPointer?, UnsafeMutablePointer<Int>?) -> cl_int) -> String
    {
        var size = 0
        guard query(0, nil, &size) == CL_SUCCESS, size > 0 else { return "" }
        var bytes = [CChar](repeating: 0, count: size)
        guard query(size, &bytes, nil) == CL_SUCCESS else { return "" }
        return String(cString: bytes).trimmingSpaces
    }

    /// A fixed-size value (cl_uint, cl_ulong, size_t, cl_device_type); zero if the query fails.
    static func deviceValue<T: FixedWidthInteger>(_ device: cl_device_id, _ name: cl_device_info, as type: T.Type) -> T
    {
        var value: T = 0
        _ = clGetDeviceInfo(device, name, MemoryLayout<T>.size, &value, nil)
        return value
    }

    /// Every platform the ICD loader reports, in its order; none when there is no OpenCL at all.
    static func platforms() -> [cl_platform_id] {
        var count: cl_uint = 0
        guard clGetPlatformIDs(0, nil, &count) == CL_SUCCESS, count > 0 else { return [] }
        var ids = [cl_platform_id?](repeating: nil, count: Int(count))
        guard clGetPlatformIDs(count, &ids, nil) == CL_SUCCESS else { return [] }
        return ids.compactMap { $0 }
    }

    /// Every device of a platform, in its order.
    static func devices(_ platform: cl_platform_id) -> [cl_device_id] {
        var count: cl_uint = 0
        let all = cl_device_type(CL_DEVICE_TYPE_ALL)
        guard clGetDeviceIDs(platform, all, 0, nil, &count) == CL_SUCCESS, count > 0 else { return [] }
        var ids = [cl_device_id?](repeating: nil, count: Int(count))
        guard clGetDeviceIDs(platform, all, count, &ids, nil) == CL_SUCCESS else { return [] }
        return ids.compactMap { $0 }
    }
}

extension String {
    fileprivate var trimmingSpaces: String {
        String(drop { $0 == " " }.reversed().drop { $0 == " " || $0 == "\0" }.reversed())
    }
}
