import Conflux
import Foundation
import TestSupport
import XCTest

@testable import ConfluxOpenCL

final class ProgramBuildTests: XCTestCase {
    private let source = "__kernel void twice(__global float* x) { x[get_global_id(0)] *= 2.0f; }"
    private var directory: URL!

    override func setUpWithError() throws {
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("conflux-cache-\(UUID().uuidString)")
    }

    override func tearDownWithError() throws { try? FileManager.default.removeItem(at: directory) }

    private func device() throws -> OpenCLDevice {
        try XCTUnwrap(try openCLDevices().first as? OpenCLDevice)
    }

    func testBuildFailureCarriesTheLogAndTheProgramName() throws {
        let runtime = try device().makeRuntime(cache: ProgramCache(directory: nil))
        XCTAssertThrowsError(try runtime.build(name: "broken", source: "__kernel void f() { undeclared_thing = 1; }")) {
            error in
            guard case .kernelBuild(let program, _, let log) = error as? ConfluxError else {
                return XCTFail("\(error)")
            }
            XCTAssertEqual(program, "broken")
            XCTAssertTrue(log.contains("undeclared_thing"), log)
        }
    }

    func testSecondBuildComesFromTheDiskCache() throws {
        let cache = ProgramCache(directory: directory)
        let first = try device().makeRuntime(cache: cache)
        _ = try first.build(name: "probe", source: source)
        XCTAssertEqual(first.buildStatistics.fromCache, 0)
        let files = try FileManager.default.contentsOfDirectory(atPath: directory.path)
        XCTAssertEqual(files.count, 1)
        XCTAssertTrue(files[0].hasPrefix("probe-"), files[0])

        let second = try device().makeRuntime(cache: cache)
        _ = try second.build(name: "probe", source: source)
        XCTAssertEqual(second.buildStatistics.fromCache, 1)
        _ = try second.build(name: "probe", source: source + "\n// changed")
        XCTAssertEqual(second.buildStatistics.fromCache, 1, "a different source is a different key")
    }

    func testCorruptCacheFileFallsBackToTheSource() throws {
        let cache = ProgramCache(directory: directory)
        _ = try device().makeRuntime(cache: cache).build(name: "probe", source: source)
        let file = try XCTUnwrap(try FileManager.default.contentsOfDirectory(atPath: directory.path).first)
        let path = directory.appendingPathComponent(file)
        try Data("this is not a program binary".utf8).write(to: path)

        let runtime = try device().makeRuntime(cache: cache)
        _ = try runtime.build(name: "probe", source: source)
        XCTAssertEqual(runtime.buildStatistics.fromCache, 0)
        XCTAssertNotEqual(
            try Data(contentsOf: path), Data("this is not a program binary".utf8), "the file is rewritten")
        let again = try device().makeRuntime(cache: cache)
        _ = try again.build(name: "probe", source: source)
        XCTAssertEqual(again.buildStatistics.fromCache, 1)
    }

    func testCacheDirectoryFollowsTheEnvironment() {
        XCTAssertNil(ProgramCache(environment: ["CONFLUX_CACHE_DIR": "off"]).directory)
        XCTAssertEqual(ProgramCache(environment: ["CONFLUX_CACHE_DIR": "/tmp/x"]).directory?.path, "/tmp/x/opencl")
        XCTAssertEqual(
            ProgramCache(environment: ["XDG_CACHE_HOME": "/var/cache/me"]).directory?.path,
            "/var/cache/me/conflux/opencl")
    }
}
