// Convolution: im2col and its adjoint for convolution as batched GEMM, and a direct kernel for small patches.
// For image n, col[n] is a [K, P] matrix, K = C*KH*KW, P = OH*OW, whose column p holds the input patch of output
// position p (zeros over padding).

#define GEOMETRY const int C, const int H, const int W, const int OH, const int OW, const int KH, const int KW, \
    const int SH, const int SW, const int PT, const int PL

// One work-item per element of col [N, K, P].
__kernel void im2col(__global const float* x, __global float* col, const int total, GEOMETRY) {
    const int i = get_global_id(0);
    if (i >= total) return;
    const int P = OH * OW, K = C * KH * KW;
    const int p = i % P, row = (i / P) % K, n = i / (P * K);
    const int kw = row % KW, kh = (row / KW) % KH, c = row / (KW * KH);
    const int ih = (p / OW) * SH - PT + kh, iw = (p % OW) * SW - PL + kw;
    col[i] = (ih >= 0 && ih < H && iw >= 0 && iw < W) ? x[((n * C + c) * H + ih) * W + iw] : 0.0f;
}

// One work-item per element of the image batch [N, C, H, W]: sums every col entry that came from it.
__kernel void col2im(__global const float* col, __global float* x, const int total, GEOMETRY) {
    const int i = get_global_id(0);
    if (i >= total) return;
    const int P = OH * OW, K = C * KH * KW;
    const int iw = i % W, ih = (i / W) % H, c = (i / (W * H)) % C, n = i / (W * H * C);
    float acc = 0.0f;
    for (int kh = 0; kh < KH; ++kh) {
        const int y = ih + PT - kh;
        if (y < 0 || y % SH != 0 || y / SH >= OH) continue;
        for (int kw = 0; kw < KW; ++kw) {
            const int x0 = iw + PL - kw;
            if (x0 < 0 || x0 % SW != 0 || x0 / SW >= OW) continue;
            acc += col[(n * K + (c * KH + kh) * KW + kw) * P + (y / SH) * OW + x0 / SW];
        }
    }
    x[i] = acc;
}

// Direct convolution for small patches: one work-item per output element of y [N, O, OH, OW].
__kernel void conv_direct(__global const float* x, __global const float* w, __global float* y, const int total,
                          const int O, GEOMETRY) {
    const int i = get_global_id(0);
    if (i >= total) return;
    const int ox = i % OW, oy = (i / OW) % OH, o = (i / (OW * OH)) % O, n = i / (OW * OH * O);
    float acc = 0.0f;
    for (int c = 0; c < C; ++c)
        for (int kh = 0; kh < KH; ++kh) {
            const int ih = oy * SH - PT + kh;
            if (ih < 0 || ih >= H) continue;
            for (int kw = 0; kw < KW; ++kw) {
                const int iw = ox * SW - PL + kw;
                if (iw < 0 || iw >= W) continue;
                acc += x[((n * C + c) * H + ih) * W + iw] * w[((o * C + c) * KH + kh) * KW + kw];
            }
        }
    y[i] = acc;
}
