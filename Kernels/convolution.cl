// Convolution: im2col and its adjoint for convolution as batched GEMM (not dilated, not grouped), and one-pass
// kernels for small patches and for dilated or grouped convolutions. For image n, col[n] is a [K, P] matrix,
// K = C*KH*KW, P = OH*OW, whose column p holds the input patch of output position p (zeros over padding).
// Taps are DH, DW apart; the C channels form G groups of C/G, each read by O/G output channels.

#define GEOMETRY const int C, const int H, const int W, const int OH, const int OW, const int KH, const int KW, \
    const int SH, const int SW, const int PT, const int PL, const int DH, const int DW, const int G

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

// Direct convolution for small patches and for dilated or grouped ones: one work-item per output element of
// y [N, O, OH, OW], over the CG channels of its group.
__kernel void conv_direct(__global const float* x, __global const float* w, __global float* y, const int total,
                          const int O, GEOMETRY) {
    const int i = get_global_id(0);
    if (i >= total) return;
    const int ox = i % OW, oy = (i / OW) % OH, o = (i / (OW * OH)) % O, n = i / (OW * OH * O);
    const int CG = C / G, first = o / (O / G) * CG;
    float acc = 0.0f;
    for (int c = 0; c < CG; ++c)
        for (int kh = 0; kh < KH; ++kh) {
            const int ih = oy * SH - PT + kh * DH;
            if (ih < 0 || ih >= H) continue;
            for (int kw = 0; kw < KW; ++kw) {
                const int iw = ox * SW - PL + kw * DW;
                if (iw < 0 || iw >= W) continue;
                acc += x[((n * C + first + c) * H + ih) * W + iw] * w[((o * CG + c) * KH + kh) * KW + kw];
            }
        }
    y[i] = acc;
}

// dx of a dilated or grouped convolution: one work-item per element of x [N, C, H, W], summing the output
// gradients of the O/G channels of its group whose windows cover it.
__kernel void conv_input_gradient(__global const float* w, __global const float* dy, __global float* dx,
                                  const int total, const int O, GEOMETRY) {
    const int i = get_global_id(0);
    if (i >= total) return;
    const int iw = i % W, ih = (i / W) % H, c = (i / (W * H)) % C, n = i / (W * H * C);
    const int CG = C / G, OG = O / G, group = c / CG;
    float acc = 0.0f;
    for (int kh = 0; kh < KH; ++kh) {
        const int y = ih + PT - kh * DH;
        if (y < 0 || y % SH != 0 || y / SH >= OH) continue;
        for (int kw = 0; kw < KW; ++kw) {
            const int x0 = iw + PL - kw * DW;
            if (x0 < 0 || x0 % SW != 0 || x0 / SW >= OW) continue;
            for (int o = group * OG; o < (group + 1) * OG; ++o) {
                acc += dy[((n * O + o) * OH + y / SH) * OW + x0 / SW] * w[((o * CG + c % CG) * KH + kh) * KW + kw];
            }
        }
    }
    dx[i] = acc;
}

// dW of a dilated or grouped convolution: one work-item per element of w [O, C/G, KH, KW], summing over every
// image and output position.
__kernel void conv_filter_gradient_grouped(__global const float* x, __global const float* dy, __global float* dw,
                                           const int total, const int O, const int N, GEOMETRY) {
    const int i = get_global_id(0);
    if (i >= total) return;
    const int CG = C / G;
    const int kw = i % KW, kh = (i / KW) % KH, ci = (i / (KW * KH)) % CG, o = i / (KW * KH * CG);
    const int c = o / (O / G) * CG + ci;
    float acc = 0.0f;
    for (int n = 0; n < N; ++n)
        for (int oy = 0; oy < OH; ++oy) {
            const int ih = oy * SH - PT + kh * DH;
            if (ih < 0 || ih >= H) continue;
            for (int ox = 0; ox < OW; ++ox) {
                const int iw = ox * SW - PL + kw * DW;
                if (iw < 0 || iw >= W) continue;
                acc += dy[((n * O + o) * OH + oy) * OW + ox] * x[((n * C + c) * H + ih) * W + iw];
            }
        }
    dw[i] = acc;
}
