import CCLBlast
import COpenCL
import Conflux

/// The one place the OpenCL backend calls CLBlast. Matrices are row-major with leading dimensions as stored.
enum CLBlastGEMM {
    /// The operands of C = op(A) · op(B) for `count` matrices spaced `stride` elements apart (0: one shared).
    struct Operand {
        let mem: cl_mem
        let ld: Int
        var stride = 0
    }

    /// C[m×n] = op(A)[m×k] · op(B)[k×n] for each of `count` matrix triples.
    static func gemm(
        on device: OpenCLDevice, transposeA: Bool, transposeB: Bool, m: Int, n: Int, k: Int,
        a: Operand, b: Operand, c: Operand, count: Int = 1
    ) throws {
        let runtime = try device.runtime()
        device.gemmLock.lock()
        defer { device.gemmLock.unlock() }
        var queue: cl_command_queue? = runtime.queue
        let ta = transposeA ? CLBlastTransposeYes : CLBlastTransposeNo
        let tb = transposeB ? CLBlastTransposeYes : CLBlastTransposeNo
        let status =
            count == 1
            ? CLBlastSgemm(
                CLBlastLayoutRowMajor, ta, tb, m, n, k, 1, a.mem, 0, a.ld, b.mem, 0, b.ld, 0, c.mem, 0, c.ld, &queue,
                nil)
            : CLBlastSgemmStridedBatched(
                CLBlastLayoutRowMajor, ta, tb, m, n, k, 1, a.mem, 0, a.ld, a.stride, b.mem, 0, b.ld, b.stride, 0,
                c.mem, 0, c.ld, c.stride, count, &queue, nil)
        guard status == CLBlastSuccess else {
            throw ConfluxError.openCL(
                call: "CLBlastSgemm(\(m)×\(n)×\(k), batch \(count))", status: "CLBlast status \(status.rawValue)")
        }
        try runtime.afterLibraryCall()
    }
}
