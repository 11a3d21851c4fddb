import COpenCL
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
        let first = try openCLDevices().first
        return try XCTUnwrap(first as? OpenCLDevice)
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

    /// A cut-short entry and a valid entry of another program are both refused before the driver sees them (PoCL
    /// aborted on the first; the second failed with CL_INVALID_KERNEL_NAME), and rebuilt from source.
    func testDamagedOrForeignEntriesAreRebuiltFromSource() throws {
        let cache = ProgramCache(directory: directory)
        let other = "__kernel void thrice(__global float* x) { x[get_global_id(0)] *= 3.0f; }"
        _ = try device().makeRuntime(cache: cache).build(name: "probe", source: source)
        _ = try device().makeRuntime(cache: cache).build(name: "other", source: other)
        let files = try FileManager.default.contentsOfDirectory(atPath: directory.path)
        let probe = directory.appendingPathComponent(try XCTUnwrap(files.first { $0.hasPrefix("probe-") }))
        let otherFile = directory.appendingPathComponent(try XCTUnwrap(files.first { $0.hasPrefix("other-") }))
        let whole = try Data(contentsOf: probe)

        for damaged in [whole.prefix(whole.count / 2), whole.prefix(40), try Data(contentsOf: otherFile)] {
            try damaged.write(to: probe)
            let runtime = try device().makeRuntime(cache: cache)
            let program = try runtime.build(name: "probe", source: source)
            XCTAssertEqual(runtime.buildStatistics.fromCache, 0)
            var status: cl_int = 0
            let kernel = clCreateKernel(program, "twice", &status)
            XCTAssertEqual(status, CL_SUCCESS, "the rebuilt program has its own kernel")
            clReleaseKernel(kernel)
            clReleaseProgram(program)
            XCTAssertEqual(try Data(contentsOf: probe).count, whole.count, "the entry is replaced by a whole one")
        }
    }

    func testEntriesCarryIdentityLengthAndChecksum() {
        let binary = Data((0..<1000).map { UInt8($0 % 251) })
        let entry = ProgramCache.encode(binary, identity: "probe 1234")
        XCTAssertEqual(try? ProgramCache.decode(entry, identity: "probe 1234").get(), binary)
        for (damaged, reason) in [
            (entry.prefix(entry.count - 1), "it should hold 1000 bytes of binary but holds 999"),
            (entry + Data([0]), "it should hold 1000 bytes of binary but holds 1001"),
            (entry.prefix(10), "not a Conflux cache entry"),
            (entry.prefix(ProgramCache.magic.count + 6), "its header is cut short"),
        ] {
            guard case .failure(let problem) = ProgramCache.decode(Data(damaged), identity: "probe 1234") else {
                return XCTFail("accepted a damaged entry (\(reason))")
            }
            XCTAssertEqual(problem.reason, reason)
        }
        var flipped = entry
        flipped[flipped.count - 5] ^= 1
        guard case .failure(let problem) = ProgramCache.decode(flipped, identity: "probe 1234") else {
            return XCTFail("accepted a flipped bit")
        }
        XCTAssertEqual(problem.reason, "its checksum does not match")
        guard case .failure(let foreign) = ProgramCache.decode(entry, identity: "other 1234") else {
            return XCTFail("accepted another program's entry")
        }
        XCTAssertEqual(foreign.reason, "it holds another program")
    }

    /// An allocation that fails leaves no released buffer behind for the runtime to release again (PoCL aborted
    /// with SIGABRT in the runtime's deinit).
    func testFailedScratchAllocationIsAnErrorAndNothingIsReleasedTwice() throws {
        var runtime: CLRuntime? = try device().makeRuntime(cache: ProgramCache(directory: nil))
        _ = try runtime?.scratch(0, bytes: 1024)
        XCTAssertThrowsError(try runtime?.scratch(0, bytes: 1 << 42)) { error in
            guard case .outOfMemory(_, let tensor, let bytes) = error as? ConfluxError else {
                return XCTFail("\(error)")
            }
            XCTAssertEqual(tensor, "scratch")
            XCTAssertEqual(bytes, 1 << 42)
        }
        XCTAssertNoThrow(try runtime?.scratch(0, bytes: 2048), "the slot is usable again")
        runtime = nil
    }

    func testCacheDirectoryFollowsTheEnvironment() {
        XCTAssertNil(ProgramCache(environment: ["CONFLUX_CACHE_DIR": "off"]).directory)
        XCTAssertEqual(ProgramCache(environment: ["CONFLUX_CACHE_DIR": "/tmp/x"]).directory?.path, "/tmp/x/opencl")
        XCTAssertEqual(
            ProgramCache(environment: ["XDG_CACHE_HOME": "/var/cache/me"]).directory?.path,
            "/var/cache/me/conflux/opencl")
    }
}
