import Foundation
import XCTest

/// The path of a file under Tests/Fixtures.
public func fixturePath(_ name: String) -> String {
    URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("../Fixtures")
        .appendingPathComponent(name).standardized.path
}

/// Runs a fixture's Python script with the interpreter in `CONFLUX_PYTHON` (scripts/test.sh sets one up with
/// safetensors, numpy and tensorboard) and returns the JSON object it prints; skips the test when none is set.
public func runPythonFixture(
    _ script: String, _ arguments: [String], file: StaticString = #filePath, line: UInt = #line
)
    throws -> [String: Any]
{
    let python = try fixturePython()
    let process = Process()
    process.executableURL = URL(fileURLWithPath: python)
    process.arguments = ["-W", "ignore", fixturePath(script)] + arguments
    let pipe = Pipe()
    process.standardOutput = pipe
    try process.run()
    let output = pipe.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    XCTAssertEqual(process.terminationStatus, 0, "\(script) failed", file: file, line: line)
    return try XCTUnwrap(try JSONSerialization.jsonObject(with: output) as? [String: Any], file: file, line: line)
}

/// The interpreter in `CONFLUX_PYTHON`; skips the test when none is set. A test that does long work before
/// running a fixture calls this first.
public func fixturePython() throws -> String {
    guard let python = ProcessInfo.processInfo.environment["CONFLUX_PYTHON"] else {
        throw XCTSkip(
            "CONFLUX_PYTHON (a Python with safetensors, numpy and tensorboard) is not set; scripts/test.sh sets it")
    }
    return python
}
