// Local response normalization across the channels of x [N, C, inner]: one work-item per element. The window of
// channel c runs from c - (SIZE - 1) / 2 to c + SIZE / 2, clipped to the channels; s = bias + alpha/size * sum x^2
// over it.

float lrn_scale(__global const float* x, const int start, const int c, const int C, const int inner,
                const int size, const float alpha, const float bias) {
    float total = 0.0f;
    for (int j = max(0, c - (size - 1) / 2); j < min(C, c + size / 2 + 1); ++j) {
        const float v = x[start + j * inner];
        total += v * v;
    }
    return bias + alpha / size * total;
}

// y = x * s^(-beta)
__kernel void lrn_forward(__global const float* x, __global float* y, const int n, const int C, const int inner,
                          const int size, const float alpha, const float beta, const float bias) {
    const int i = get_global_id(0);
    if (i >= n) return;
    const int c = (i / inner) % C, start = i - c * inner;
    y[i] = x[i] * pow(lrn_scale(x, start, c, C, inner, size, alpha, bias), -beta);
}

// dx_c = dy_c * s_c^(-beta) - (2 alpha beta / size) * x_c * sum over the channels j whose window holds c of
// dy_j * x_j * s_j^(-beta - 1)
__kernel void lrn_grad(__global const float* x, __global const float* dy, __global float* dx, const int n,
                       const int C, const int inner, const int size, const float alpha, const float beta,
                       const float bias) {
    const int i = get_global_id(0);
    if (i >= n) return;
    const int c = (i / inner) % C, start = i - c * inner;
    float total = 0.0f;
    for (int j = max(0, c - size / 2); j < min(C, c + (size - 1) / 2 + 1); ++j) {
        const int at = start + j * inner;
        total += dy[at] * x[at] * pow(lrn_scale(x, start, j, C, inner, size, alpha, bias), -beta - 1.0f);
    }
    dx[i] = dy[i] * pow(lrn_scale(x, start, c, C, inner, size, alpha, bias), -beta)
            - 2.0f * alpha * beta / size * x[i] * total;
}
