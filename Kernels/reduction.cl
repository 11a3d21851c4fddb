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

// Batch normalization of x [batch, channels, inner] over axis 1: one work-group per channel c. AT(i) is the
// offset of the channel's i-th value. A channel's statistics are the given ones (has_given: mean[c],
// variance[c]) or the batch's own, in two passes (the mean, then the squared deviations), the variance biased.
#define AT(i) (((i) / inner * channels + c) * inner + (i) % inner)

float2 channel_statistics(__global const float* x, __global const float* mean, __global const float* variance,
                          const int has_given, const int batch, const int channels, const int inner,
                          __local float* partial) {
    const int c = get_group_id(0);
    if (has_given) return (float2)(mean[c], variance[c]);
    const int count = batch * inner;
    float acc = 0.0f;
    for (int i = get_local_id(0); i < count; i += GROUP) acc += x[AT(i)];
    const float m = group_sum(acc, partial) / count;
    acc = 0.0f;
    for (int i = get_local_id(0); i < count; i += GROUP) {
        const float d = x[AT(i)] - m;
        acc += d * d;
    }
    return (float2)(m, group_sum(acc, partial) / count);
}

// y = scale·(x − mean)/√(variance + epsilon) + offset
__kernel void batch_norm_forward(__global const float* x, __global const float* scale,
                                 __global const float* offset, __global const float* mean,
                                 __global const float* variance, __global float* y, const int has_given,
                                 const int batch, const int channels, const int inner, const float epsilon) {
    __local float partial[GROUP];
    const int c = get_group_id(0);
    const float2 s = channel_statistics(x, mean, variance, has_given, batch, channels, inner, partial);
    const float slope = scale[c] / sqrt(s.y + epsilon);
    const float intercept = offset[c] - s.x * slope;
    for (int i = get_local_id(0); i < batch * inner; i += GROUP) y[AT(i)] = slope * x[AT(i)] + intercept;
}

// dx = scale·σ⁻¹·(dy − Σdy/M − x̂·Σ(dy·x̂)/M) through batch statistics over M values; scale·σ⁻¹·dy through
// given ones.
__kernel void batch_norm_grad(__global const float* x, __global const float* scale, __global const float* dy,
                              __global const float* mean, __global const float* variance, __global float* dx,
                              const int has_given, const int batch, const int channels, const int inner,
                              const float epsilon) {
    __local float partial[GROUP];
    const int c = get_group_id(0);
    const int count = batch * inner;
    const float2 s = channel_statistics(x, mean, variance, has_given, batch, channels, inner, partial);
    const float inverse = 1.0f / sqrt(s.y + epsilon);
    const float gain = scale[c] * inverse;
    float slope_x = 0.0f, intercept = 0.0f;
    if (!has_given) {
        float sum_dy = 0.0f, sum_dy_x = 0.0f;
        for (int i = get_local_id(0); i < count; i += GROUP) {
            sum_dy += dy[AT(i)];
            sum_dy_x += dy[AT(i)] * (x[AT(i)] - s.x);
        }
        sum_dy = group_sum(sum_dy, partial);
        sum_dy_x = group_sum(sum_dy_x, partial);
        slope_x = -gain * inverse * inverse * sum_dy_x / count;
        intercept = -gain * sum_dy / count - slope_x * s.x;
    }
    for (int i = get_local_id(0); i < count; i += GROUP) {
        dx[AT(i)] = gain * dy[AT(i)] + slope_x * x[AT(i)] + intercept;
    }
}

// dscale[c] = Σ dy·x̂ over channel c
__kernel void batch_norm_scale_grad(__global const float* x, __global const float* dy, __global const float* mean,
                                    __global const float* variance, __global float* dscale, const int has_given,
                                    const int batch, const int channels, const int inner, const float epsilon) {
    __local float partial[GROUP];
    const int c = get_group_id(0);
    const float2 s = channel_statistics(x, mean, variance, has_given, batch, channels, inner, partial);
    float acc = 0.0f;
    for (int i = get_local_id(0); i < batch * inner; i += GROUP) acc += dy[AT(i)] * (x[AT(i)] - s.x);
    const float total = group_sum(acc, partial);
    if (get_local_id(0) == 0) dscale[c] = total / sqrt(s.y + epsilon);
}

// running = (1 − momentum)·running + momentum·batch statistic, the batch variance unbiased
__kernel void batch_norm_statistics_update(__global float* running_mean, __global float* running_variance,
                                           __global const float* x, const int batch, const int channels,
                                           const int inner, const float momentum) {
    __local float partial[GROUP];
    const int c = get_group_id(0);
    const int count = batch * inner;
    const float2 s = channel_statistics(x, x, x, 0, batch, channels, inner, partial);
    if (get_local_id(0) == 0) {
        const float correction = count > 1 ? (float)count / (count - 1) : 1.0f;
        running_mean[c] += momentum * (s.x - running_mean[c]);
        running_variance[c] += momentum * (s.y * correction - running_variance[c]);
    }
}
