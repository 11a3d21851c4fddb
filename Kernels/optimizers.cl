// In-place optimizer updates, one work-item per parameter element. No contraction: a multiply and an add stay two
// roundings, as in the CPU's kernels, so that data-parallel processes on different devices take bit-identical
// steps (a compiler free to fuse them would round once).
#pragma OPENCL FP_CONTRACT OFF

// Zero for a subnormal value: moments that decay into subnormals are zero, and stay fast on every device.
float flush_subnormal(const float x) { return fabs(x) < FLT_MIN ? 0.0f : x; }

// var += value
__kernel void assign_add(__global float* var, __global const float* value, const int n) {
    const int i = get_global_id(0);
    if (i < n) var[i] += value[i];
}

// accum = momentum * accum + grad; var -= lr * accum, with the learning rate in lr[0].
__kernel void apply_momentum(__global float* var, __global float* accum, __global const float* grad,
                             __global const float* lr, const int n, const float momentum) {
    const int i = get_global_id(0);
    if (i >= n) return;
    accum[i] = momentum * accum[i] + grad[i];
    var[i] -= lr[0] * accum[i];
}

// base^exponent by squaring, in a fixed order of float multiplications: the same bits as the CPU kernel's.
float power(float base, int exponent) {
    float result = 1.0f, square = base;
    for (; exponent > 0; exponent >>= 1) {
        if (exponent & 1) result *= square;
        square *= square;
    }
    return result;
}

// Counts one Adam step; runs before apply_adam on the same in-order queue.
__kernel void adam_step(__global float* step) { step[0] += 1.0f; }

// Adam with bias correction, as PyTorch computes it, with the learning rate in lr[0].
__kernel void apply_adam(__global float* var, __global float* m, __global float* v, __global const float* step,
                         __global const float* grad, __global const float* lr, const int n, const float beta1,
                         const float beta2, const float epsilon) {
    const int i = get_global_id(0);
    if (i >= n) return;
    const float t = step[0];
    m[i] = flush_subnormal(beta1 * m[i] + (1.0f - beta1) * grad[i]);
    v[i] = flush_subnormal(beta2 * v[i] + (1.0f - beta2) * grad[i] * grad[i]);
    const float correction1 = 1.0f - power(beta1, (int)t), correction2 = 1.0f - power(beta2, (int)t);
    var[i] -= lr[0] * (m[i] / correction1) / (sqrt(v[i] / correction2) + epsilon);
}
