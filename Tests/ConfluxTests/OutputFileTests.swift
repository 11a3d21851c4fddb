import Foundation
import TestSupport
import XCTest

@testable import Conflux

final class OutputFileTests: XCTestCase {
    private var directory: TemporaryDirectory!

    override func setUpWithError() throws { directory = try TemporaryDirectory() }

    private func reason(_ body: () throws -> Void) -> String? {
        do {
            try body()
            return nil
        } catch ConfluxError.outputFile(_, let reason) {
            return reason
        } catch {
            return "not an outputFile error: \(error)"
        }
    }

    func testWritesANewFileAndReplacesAnOldOneWhole() throws {
        let path = directory.path("a.txt")
        try OutputFile.write("first", to: path)
        try OutputFile.write("second", to: path)
        XCTAssertEqual(try String(contentsOfFile: path, encoding: .utf8), "second")
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: directory.url.path), ["a.txt"])
    }

    func testRefusesWhatIsNotARegularFileWithoutTouchingIt() throws {
        mkfifo(directory.path("fifo"), 0o644)
        XCTAssertEqual(
            reason { try OutputFile.write("x", to: self.directory.path("fifo")) },
            "it is a FIFO (named pipe), not a regular file; give the path of a file to write")
        XCTAssertEqual(
            reason { try OutputFile.check(self.directory.url.path) },
            "it is a directory, not a regular file; give the path of a file to write")
        XCTAssertEqual(
            reason { try OutputFile.check("/dev/null") },
            "it is a character device, not a regular file; give the path of a file to write")
        XCTAssertEqual(
            reason { try OutputFile.check(self.directory.path("missing/a.txt")) },
            "its directory \(directory.path("missing")) does not exist; create it first")
        XCTAssertTrue(FileManager.default.createFile(atPath: directory.path("file"), contents: nil))
        XCTAssertEqual(
            reason { try OutputFile.check(self.directory.path("file/a.txt")) },
            "\(directory.path("file")) is not a directory")
        var info = stat()
        XCTAssertEqual(stat(directory.path("fifo"), &info), 0)
        XCTAssertEqual(info.st_mode & S_IFMT, S_IFIFO)
    }

    func testFollowsLinksAndKeepsTheMode() throws {
        let target = directory.path("target")
        XCTAssertTrue(FileManager.default.createFile(atPath: target, contents: Data("old".utf8)))
        chmod(target, 0o640)
        try FileManager.default.createSymbolicLink(atPath: directory.path("link"), withDestinationPath: "target")
        try OutputFile.write("new", to: directory.path("link"))
        XCTAssertEqual(try FileManager.default.destinationOfSymbolicLink(atPath: directory.path("link")), "target")
        XCTAssertEqual(try String(contentsOfFile: target, encoding: .utf8), "new")
        var info = stat()
        XCTAssertEqual(stat(target, &info), 0)
        XCTAssertEqual(info.st_mode & 0o777, 0o640)
        // A dangling link creates the file it names.
        try FileManager.default.createSymbolicLink(atPath: directory.path("dangling"), withDestinationPath: "created")
        try OutputFile.write("made", to: directory.path("dangling"))
        XCTAssertEqual(try String(contentsOfFile: directory.path("created"), encoding: .utf8), "made")
    }

    /// A temporary left by a killed process is removed by the next write; one of a live process is not.
    func testRemovesTemporariesOfDeadProcesses() throws {
        let path = directory.path("checkpoint")
        let dead = OutputFile.temporaryPath(of: path, pid: 999_999_999)
        let live = OutputFile.temporaryPath(of: path, pid: getppid())
        for temporary in [dead, live] {
            XCTAssertTrue(FileManager.default.createFile(atPath: temporary, contents: Data("x".utf8)))
        }
        try OutputFile.write("whole", to: path)
        XCTAssertFalse(FileManager.default.fileExists(atPath: dead))
        XCTAssertTrue(FileManager.default.fileExists(atPath: live))
    }

    func testOutputDirectoryIsCreatedOrRefused() throws {
        try OutputDirectory.prepare(directory.path("logs/run1"))
        var isDirectory: ObjCBool = false
        XCTAssertTrue(FileManager.default.fileExists(atPath: directory.path("logs/run1"), isDirectory: &isDirectory))
        XCTAssertTrue(isDirectory.boolValue)
        XCTAssertTrue(FileManager.default.createFile(atPath: directory.path("plain"), contents: nil))
        XCTAssertEqual(
            reason { try OutputDirectory.prepare(self.directory.path("plain")) }, "it exists and is not a directory")
    }
}
