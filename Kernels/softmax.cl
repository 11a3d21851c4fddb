// Row-wise softmax, cross-entropy with integer labels, argmax and accuracy on [rows, classes] logits.
// Labels outside 0..<classes are reported through the kernel's data-check slot (DataCheck): slot[0] = row + 1,
// slot[1] = label.

// The index of the first largest element of a row.
int row_argmax(__global const float* row, const int classes) {
    int best = 0;
    for (int j = 1; j < classes; ++j) if (row[j] > row[best]) best = j;
    return best;
}

// A row's maximum and the sum of exp(x - maximum). Every function of a row's softmax is computed from these two with
// the maximum subtracted first: exp cannot overflow, and large logits keep their differences (log(sum) + maximum
// rounds to the maximum for logits near 1e10, which would make every probability 1).
typedef struct {
    float largest;
    float total;
} row_stats;

row_stats row_statistics(__global const float* row, const int classes) {
    row_stats s = {row[0], 0.0f};
    for (int j = 1; j < classes; ++j) s.largest = fmax(s.largest, row[j]);
    for (int j = 0; j < classes; ++j) s.total += exp(row[j] - s.largest);
    return s;
}

bool label_ok(const int label, const int row, const int classes, __global int* checks, const int slot) {
    if (label >= 0 && label < classes) return true;
    checks[2 * slot] = row + 1;
    checks[2 * slot + 1] = label;
    return false;
}

__kernel void softmax_forward(__global const float* x, __global float* y, const int rows, const int classes) {
    const int r = get_global_id(0);
    if (r >= rows) return;
    const row_stats s = row_statistics(x + r * classes, classes);
    for (int j = 0; j < classes; ++j) y[r * classes + j] = exp(x[r * classes + j] - s.largest) / s.total;
}

// dx = y * (dy - sum(dy * y)), per row.
__kernel void softmax_grad(__global const float* y, __global const float* dy, __global float* dx, const int rows,
                           const int classes) {
    const int r = get_global_id(0);
    if (r >= rows) return;
    float dot = 0.0f;
    for (int j = 0; j < classes; ++j) dot += dy[r * classes + j] * y[r * classes + j];
    for (int j = 0; j < classes; ++j) dx[r * classes + j] = y[r * classes + j] * (dy[r * classes + j] - dot);
}

// y = x - log(sum(exp(x))), per row.
__kernel void log_softmax_forward(__global const float* x, __global float* y, const int rows, const int classes) {
    const int r = get_global_id(0);
    if (r >= rows) return;
    const row_stats s = row_statistics(x + r * classes, classes);
    const float log_total = log(s.total);
    for (int j = 0; j < classes; ++j) y[r * classes + j] = (x[r * classes + j] - s.largest) - log_total;
}

// dx = dy - exp(y) * sum(dy), per row.
__kernel void log_softmax_grad(__global const float* y, __global const float* dy, __global float* dx, const int rows,
                               const int classes) {
    const int r = get_global_id(0);
    if (r >= rows) return;
    float total = 0.0f;
    for (int j = 0; j < classes; ++j) total += dy[r * classes + j];
    for (int j = 0; j < classes; ++j) dx[r * classes + j] = dy[r * classes + j] - exp(y[r * classes + j]) * total;
}

__kernel void softmax_xent(__global const float* logits, __global const int* labels, __global float* loss,
                           __global int* checks, const int slot, const int rows, const int classes) {
    const int r = get_global_id(0);
    if (r >= rows) return;
    const int label = labels[r];
    if (!label_ok(label, r, classes, checks, slot)) {
        loss[r] = NAN;
        return;
    }
    const row_stats s = row_statistics(logits + r * classes, classes);
    loss[r] = log(s.total) - (logits[r * classes + label] - s.largest);
}

// dlogits = (softmax(logits) - onehot(label)) * dy[row]
__kernel void softmax_xent_grad(__global const float* logits, __global const int* labels, __global const float* dy,
                                __global float* dx, __global int* checks, const int slot, const int rows,
                                const int classes) {
    const int r = get_global_id(0);
    if (r >= rows) return;
    const int label = labels[r];
    if (!label_ok(label, r, classes, checks, slot)) return;
    const row_stats s = row_statistics(logits + r * classes, classes);
    for (int j = 0; j < classes; ++j) {
        const float p = exp(logits[r * classes + j] - s.largest) / s.total;
        dx[r * classes + j] = (p - (j == label ? 1.0f : 0.0f)) * dy[r];
    }
}

__kernel void argmax_rows(__global const float* x, __global int* y, const int rows, const int classes) {
    const int r = get_global_id(0);
    if (r < rows) y[r] = row_argmax(x + r * classes, classes);
}

// y[0] = the fraction of rows whose argmax is the label: one work-group of GROUP work-items.
__kernel void accuracy(__global const float* x, __global const int* labels, __global float* y, const int rows,
                       const int classes) {
    __local int partial[GROUP];
    const int lid = get_local_id(0);
    int correct = 0;
    for (int r = lid; r < rows; r += GROUP) correct += row_argmax(x + r * classes, classes) == labels[r];
    partial[lid] = correct;
    barrier(CLK_LOCAL_MEM_FENCE);
    for (int stride = GROUP / 2; stride > 0; stride >>= 1) {
        if (lid < stride) partial[lid] += partial[lid + stride];
        barrier(CLK_LOCAL_MEM_FENCE);
    }
    if (lid == 0) y[0] = rows == 0 ? 0.0f : (float)partial[0] / (float)rows;
}
