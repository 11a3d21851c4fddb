import Conflux
import XCTest

@testable import ConfluxCPU

/// The choices of CPU kernels: OpenBLAS's core and the instruction set of the vector kernels, each branch forced.
final class InstructionSetTests: XCTestCase {
    func testOpenBLASFallbackIsReplacedByInstructionSetNotVendor() {
        let avx512: Set = ["avx512f", "avx512bw", "avx512vl", "avx512dq", "avx2", "fma"]
        XCTAssertEqual(OpenBLASCore.better(than: "Prescott", flags: avx512), "SkylakeX")
        XCTAssertEqual(OpenBLASCore.better(than: "Prescott", flags: ["avx2", "fma", "sse4_2"]), "Haswell")
        XCTAssertNil(OpenBLASCore.better(than: "Prescott", flags: ["sse3", "sse4_2"]), "nothing better than SSE3")
        XCTAssertNil(OpenBLASCore.better(than: "Haswell", flags: avx512), "a core OpenBLAS chose itself stays")
    }

    func testEveryListedInstructionSetRunsAndOthersAreRefused() throws {
        let sets = CPUDevice.instructionSets
        XCTAssertEqual(sets.last, "baseline", "every processor runs the baseline kernels")
        for name in sets {
            XCTAssertEqual(try CPUDevice(instructionSet: name).properties.first { $0.0 == "vector kernels" }?.1, name)
        }
        XCTAssertEqual(try CPUDevice(instructionSet: nil).properties.first { $0.0 == "vector kernels" }?.1, sets[0])
        XCTAssertThrowsError(try CPUDevice(instructionSet: "avx1024")) { error in
            XCTAssertTrue("\(error)".contains("baseline"), "the error lists the sets that run: \(error)")
        }
    }
}
