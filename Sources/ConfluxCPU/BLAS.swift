import CBLAS
import Foundation

/// The one place the CPU backend calls OpenBLAS.
enum BLAS {
    /// C[m×n] = alpha · op(A)[m×k] · op(B)[k×n] + beta · C, row-major, with leading dimensions as stored.
    static func sgemm(
        transposeA: Bool, transposeB: Bool, m: Int, n: Int, k: Int, alpha: Float = 1,
        a: UnsafePointer<Float>, lda: Int, b: UnsafePointer<Float>, ldb: Int,
        beta: Float = 0, c: UnsafeMutablePointer<Float>, ldc: Int
    ) {
        cblas_sgemm(
            CblasRowMajor, transposeA ? CblasTrans : CblasNoTrans, transposeB ? CblasTrans : CblasNoTrans,
            Int32(m), Int32(n), Int32(k), alpha, a, Int32(lda), b, Int32(ldb), beta, c, Int32(ldc))
    }

    /// y[n] = op(B) · x for B stored row-major with leading dimension `ldb`: [n×k] as is, or [k×n] transposed
    /// (`transposeB`, as `sgemm`'s B). A matrix product of one row: OpenBLAS's sgemm would pack B first.
    static func sgemv(
        transposeB: Bool, n: Int, k: Int, b: UnsafePointer<Float>, ldb: Int, x: UnsafePointer<Float>,
        y: UnsafeMutablePointer<Float>
    ) {
        // Row-major A[M×N] with y = A·x (no transpose) or y = Aᵀ·x: B [n×k] is the first, [k×n] the second.
        let (rows, columns) = transposeB ? (n, k) : (k, n)
        cblas_sgemv(
            CblasRowMajor, transposeB ? CblasNoTrans : CblasTrans, Int32(rows), Int32(columns), 1, b, Int32(ldb), x,
            1, 0, y, 1)
    }

    /// Keeps OpenBLAS on the calling thread: the kernels already split work across the cores, and OpenBLAS's
    /// own threads would compete with them (and spin in `sched_yield` between calls).
    static func useOneThread() { openblas_set_num_threads(1) }

    /// OpenBLAS's build description (version, core type, threading).
    static var configuration: String {
        guard let config = openblas_get_config() else { return "OpenBLAS" }
        return String(cString: config).trimmingCharacters(in: .whitespaces)
    }
}
