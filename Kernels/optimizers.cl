// In-place optimizer updates, one work-item per parameter element.

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
    const float correction1 = 1.0f - pow(beta1, t), correction2 = 1.0f - pow(beta2, t);
    var[i] -= lr[0] * (m[i] / correction1) / (sqrt(v[i] / correction2) + epsilon);
}
