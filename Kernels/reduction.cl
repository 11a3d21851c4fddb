// Reductions. GROUP is the work-group size the host launches them with (a -D constant, a power of two).

// Sums a work-group's values in local memory; every work-item gets the total.
float group_sum(float value, __local float* partial) {
    const int lid = get_local_id(0);
    partial[lid] = value;
    barrier(CLK_LOCAL_MEM_FENCE);
    for (int stride = GROUP / 2; stride > 0; stride >>= 1) {
        if (lid < stride) partial[lid] += partial[lid + stride];
        barrier(CLK_LOCAL_MEM_FENCE);
    }
    const float total = partial[0];
    barrier(CLK_LOCAL_MEM_FENCE);
    return total;
}

// y[0] = scale * sum(x): one work-group.
__kernel void sum_all(__global const float* x, __global float* y, const int n, const float scale) {
    __local float partial[GROUP];
    float acc = 0.0f;
    for (int i = get_local_id(0); i < n; i += GROUP) acc += x[i];
    const float total = group_sum(acc, partial);
    if (get_local_id(0) == 0) y[0] = total * scale;
}

// db[c] = sum over n and the inner positions of dy[n, c, ...]: one work-group per channel.
__kernel void bias_add_grad(__global const float* dy, __global float* db, const int batch, const int channels,
                            const int inner) {
    __local float partial[GROUP];
    const int c = get_group_id(0);
    float acc = 0.0f;
    for (int i = get_local_id(0); i < batch * inner; i += GROUP) {
        const int n = i / inner;
        acc += dy[(n * channels + c) * inner + i % inner];
    }
    const float total = group_sum(acc, partial);
    if (get_local_id(0) == 0) db[c] = total;
}

// y[m] = sum over n of x[n, m]: folds per-image partial results.
__kernel void sum_rows(__global const float* x, __global float* y, const int rows, const int columns) {
    const int m = get_global_id(0);
    if (m >= columns) return;
    float acc = 0.0f;
    for (int n = 0; n < rows; ++n) acc += x[n * columns + m];
    y[m] = acc;
}
