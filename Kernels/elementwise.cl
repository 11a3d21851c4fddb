// Element-wise kernels: one work-item per element, n elements.

__kernel void relu_forward(__global const float* x, __global float* y, const int n) {
    const int i = get_global_id(0);
    if (i < n) y[i] = fmax(x[i], 0.0f);
}

// dx = dy where the ReLU's output y > 0, else 0.
__kernel void relu_grad(__global const float* y, __global const float* dy, __global float* dx, const int n) {
    const int i = get_global_id(0);
    if (i < n) dx[i] = y[i] > 0.0f ? dy[i] : 0.0f;
}

__kernel void tanh_forward(__global const float* x, __global float* y, const int n) {
    const int i = get_global_id(0);
    if (i < n) y[i] = tanh(x[i]);
}

// dx = dy * (1 - y^2)
__kernel void tanh_grad(__global const float* y, __global const float* dy, __global float* dx, const int n) {
    const int i = get_global_id(0);
    if (i < n) dx[i] = dy[i] * (1.0f - y[i] * y[i]);
}

__kernel void sigmoid_forward(__global const float* x, __global float* y, const int n) {
    const int i = get_global_id(0);
    if (i < n) y[i] = 1.0f / (1.0f + exp(-x[i]));
}

// dx = dy * y * (1 - y)
__kernel void sigmoid_grad(__global const float* y, __global const float* dy, __global float* dx, const int n) {
    const int i = get_global_id(0);
    if (i < n) dx[i] = dy[i] * y[i] * (1.0f - y[i]);
}

__kernel void add(__global const float* a, __global const float* b, __global float* y, const int n) {
    const int i = get_global_id(0);
    if (i < n) y[i] = a[i] + b[i];
}

// y[n, c, ...] = x[n, c, ...] + bias[c], with `inner` elements per (n, c).
__kernel void bias_add(__global const float* x, __global const float* bias, __global float* y, const int n,
                       const int channels, const int inner) {
    const int i = get_global_id(0);
    if (i < n) y[i] = x[i] + bias[(i / inner) % channels];
}

__kernel void copy(__global const float* x, __global float* y, const int n) {
    const int i = get_global_id(0);
    if (i < n) y[i] = x[i];
}

// y[i] = value[0] * scale: spreads the gradient of a full reduction.
__kernel void fill_scaled(__global const float* value, __global float* y, const int n, const float scale) {
    const int i = get_global_id(0);
    if (i < n) y[i] = value[0] * scale;
}

// Piecewise-linear activations; their gradients read the activation's input x.
__kernel void leaky_relu_forward(__global const float* x, __global float* y, const int n, const float alpha) {
    const int i = get_global_id(0);
    if (i < n) y[i] = x[i] < 0.0f ? alpha * x[i] : x[i];
}

__kernel void leaky_relu_grad(__global const float* x, __global const float* dy, __global float* dx, const int n,
                              const float alpha) {
    const int i = get_global_id(0);
    if (i < n) dx[i] = x[i] > 0.0f ? dy[i] : alpha * dy[i];
}

__kernel void clip_forward(__global const float* x, __global float* y, const int n, const float low,
                           const float high) {
    const int i = get_global_id(0);
    if (i < n) y[i] = fmin(fmax(x[i], low), high);
}

__kernel void clip_grad(__global const float* x, __global const float* dy, __global float* dx, const int n,
                        const float low, const float high) {
    const int i = get_global_id(0);
    if (i < n) dx[i] = x[i] >= low && x[i] <= high ? dy[i] : 0.0f;
}

__kernel void hard_swish_forward(__global const float* x, __global float* y, const int n) {
    const int i = get_global_id(0);
    if (i < n) y[i] = x[i] * fmin(fmax(x[i] + 3.0f, 0.0f), 6.0f) / 6.0f;
}

__kernel void hard_swish_grad(__global const float* x, __global const float* dy, __global float* dx, const int n) {
    const int i = get_global_id(0);
    if (i < n) dx[i] = x[i] < -3.0f ? 0.0f : x[i] <= 3.0f ? dy[i] * (x[i] / 3.0f + 0.5f) : dy[i];
}
