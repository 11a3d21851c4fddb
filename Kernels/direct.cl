// Stride-1 convolutions and 2x2 max pooling, compiled once per layer shape with every size a compile-time constant
// (-DNAME=value), so that loops over the window unroll and index arithmetic folds. Dimension 0 of every range runs
// along image rows, so neighbouring work-items read neighbouring floats (which PoCL turns into vector loads and a
// GPU into coalesced ones). Each kernel compiles only when its own sizes are given, so that a program holds the one
// kernel it was specialized for.
//
// Convolutions read an input padded beforehand (pad_planes), so that no window needs a bounds check: N images of
// C x H x W (padded), O filters of C x KH x KW, output OH x OW = (H - KH + 1) x (W - KW + 1). The input gradient is
// the forward kernel over the padded output gradient with the filters flipped and transposed (flip_filters).

#ifdef PAD_TOP
// Planes of H x W into planes of HP x WP with PAD_TOP rows and PAD_LEFT columns of zeros before them and the rest
// after: global (WP, HP, PLANES).
__kernel void pad_planes(__global const float* restrict x, __global float* restrict y) {
    const int q = get_global_id(0), r = get_global_id(1), plane = get_global_id(2);
    if (q >= WP || r >= HP || plane >= PLANES) return;
    const int h = r - PAD_TOP, w = q - PAD_LEFT;
    y[(plane * HP + r) * WP + q] = (h >= 0 && h < H && w >= 0 && w < W) ? x[(plane * H + h) * W + w] : 0.0f;
}
#endif

#ifdef FLIP
// w'[c][o][KH - 1 - kh][KW - 1 - kw] = w[o][c][kh][kw]: global (O * C * KH * KW).
__kernel void flip_filters(__global const float* restrict w, __global float* restrict flipped) {
    const int i = get_global_id(0);
    if (i >= O * C * KH * KW) return;
    const int kw = i % KW, kh = (i / KW) % KH, c = (i / (KW * KH)) % C, o = i / (KW * KH * C);
    flipped[((c * O + o) * KH + KH - 1 - kh) * KW + KW - 1 - kw] = w[i];
}
#endif

#ifdef OB
#define OGROUPS ((O + OB - 1) / OB)
#define BLOCKS ((OW + VW - 1) / VW)
#define GLUE(a, b) a##b
#define VECTOR(prefix, n) GLUE(prefix, n)
typedef VECTOR(float, VW) floatv;

// y[n][o][oh][VW * b ... VW * b + VW - 1] for OB consecutive o: VW outputs of a row per work-item in one vector
// (the input buffer has 16 floats of slack after it for the last block's reads), with the bias and ReLU of
// _FusedConv2D when BIAS and RELU are 1: global (BLOCKS, OH, N * OGROUPS). VW (4, 8 or 16) and OB are tuned.
__kernel void conv_forward(__global const float* restrict x, __global const float* restrict w,
                           __global const float* restrict bias, __global float* restrict y) {
    const int b = get_global_id(0), oh = get_global_id(1), z = get_global_id(2);
    if (b >= BLOCKS || oh >= OH || z >= N * OGROUPS) return;
    const int n = z / OGROUPS, o0 = (z % OGROUPS) * OB;
    floatv acc[OB];
    for (int j = 0; j < OB; ++j) acc[j] = (floatv)(0.0f);
    __global const float* window = x + n * C * H * W + oh * W + VW * b;
    for (int c = 0; c < C; ++c) {
        for (int kh = 0; kh < KH; ++kh) {
            for (int kw = 0; kw < KW; ++kw) {
                const floatv v = VECTOR(vload, VW)(0, window + (c * H + kh) * W + kw);
                for (int j = 0; j < OB; ++j) acc[j] += v * w[((min(o0 + j, O - 1) * C + c) * KH + kh) * KW + kw];
            }
        }
    }
    for (int j = 0; j < OB; ++j) {
        const int o = o0 + j;
        if (o >= O) break;
        floatv r = acc[j];
#if BIAS
        r += bias[o];
#endif
#if RELU
        r = fmax(r, 0.0f);  // as relu_forward
#endif
        __global float* out = y + ((n * O + o) * OH + oh) * OW + VW * b;
        if (VW * b + VW <= OW) {
            VECTOR(vstore, VW)(r, 0, out);
        } else {
            float values[VW];
            VECTOR(vstore, VW)(r, 0, values);
            for (int k = 0; k < OW - VW * b; ++k) out[k] = values[k];
        }
    }
}
#endif

#ifdef CHUNKS
#define GLUE(a, b) a##b
#define VECTOR(prefix, n) GLUE(prefix, n)
typedef VECTOR(float, VW) floatv;

// One chunk's part of dW[o][c]: the sum over images n with n % CHUNKS == chunk (equal work for any N) of dy[n][o]
// correlated with x[n][c]. Both come padded on the right to whole vectors of VW (dy with zero columns, so the
// extra lanes add nothing): each tap's sum is a vector over a row block, the whole KH x KW window in registers,
// reduced across lanes at the end. Global (O * C, CHUNKS); partials [CHUNKS][O][C * KH * KW], added by sum_rows.
__kernel void conv_filter_gradient(__global const float* restrict x, __global const float* restrict dy,
                                   __global float* restrict partials) {
    const int oc = get_global_id(0), chunk = get_global_id(1);
    if (oc >= O * C || chunk >= CHUNKS) return;
    const int o = oc / C, c = oc % C;
    floatv acc[KH * KW];
    for (int t = 0; t < KH * KW; ++t) acc[t] = (floatv)(0.0f);
    for (int n = chunk; n < N; n += CHUNKS) {
        __global const float* image = x + (n * C + c) * H * W;
        __global const float* gradient = dy + (n * O + o) * OH * OW;
        for (int oh = 0; oh < OH; ++oh) {
            for (int b = 0; b < OW; b += VW) {
                const floatv g = VECTOR(vload, VW)(0, gradient + oh * OW + b);
                for (int kh = 0; kh < KH; ++kh)
                    for (int kw = 0; kw < KW; ++kw)
                        acc[kh * KW + kw] += g * VECTOR(vload, VW)(0, image + (oh + kh) * W + b + kw);
            }
        }
    }
    __global float* out = partials + (chunk * O + o) * (C * KH * KW) + c * KH * KW;
    for (int t = 0; t < KH * KW; ++t) {
        float lanes[VW];
        VECTOR(vstore, VW)(acc[t], 0, lanes);
        float sum = 0.0f;
        for (int k = 0; k < VW; ++k) sum += lanes[k];
        out[t] = sum;
    }
}
#endif

#ifdef HALVING
// The first maximum of a window in row-major order: a later candidate wins only when strictly larger.
#define WINDOW_MAX(a, b, c, d, best, winner)                                                                        \
    float best = a;                                                                                                 \
    int winner = 0;                                                                                                 \
    if (b > best) { best = b; winner = 1; }                                                                         \
    if (c > best) { best = c; winner = 2; }                                                                         \
    if (d > best) { best = d; winner = 3; }

// 2x2 windows with stride 2, no padding, PLANES planes of H x W into OH x OW: global (OW, OH, PLANES).
__kernel void max_pool_halving(__global const float* restrict x, __global float* restrict y) {
    const int ow = get_global_id(0), oh = get_global_id(1), plane = get_global_id(2);
    if (ow >= OW || oh >= OH || plane >= PLANES) return;
    __global const float* top = x + (plane * H + 2 * oh) * W + 2 * ow;
    WINDOW_MAX(top[0], top[1], top[W], top[W + 1], best, winner)
    y[(plane * OH + oh) * OW + ow] = best;
}

// Each window's gradient to its first maximum, zeros to the rest of it and to a leftover last row or column; with
// RELU (_FusedMaxPoolGrad), only where that maximum, the pooled ReLU's output, is positive.
__kernel void max_pool_halving_grad(__global const float* restrict x, __global const float* restrict dy,
                                    __global float* restrict dx) {
    const int ow = get_global_id(0), oh = get_global_id(1), plane = get_global_id(2);
    if (ow >= OW || oh >= OH || plane >= PLANES) return;
    const int at = (plane * H + 2 * oh) * W + 2 * ow;
    __global const float* top = x + at;
    WINDOW_MAX(top[0], top[1], top[W], top[W + 1], best, winner)
    float g = dy[(plane * OH + oh) * OW + ow];
#if RELU
    if (!(best > 0.0f)) g = 0.0f;
#endif
    dx[at] = winner == 0 ? g : 0.0f;
    dx[at + 1] = winner == 1 ? g : 0.0f;
    dx[at + W] = winner == 2 ? g : 0.0f;
    dx[at + W + 1] = winner == 3 ? g : 0.0f;
    if (W % 2 == 1 && ow == OW - 1) dx[at + 2] = dx[at + W + 2] = 0.0f;
    if (H % 2 == 1 && oh == OH - 1) {
        dx[at + 2 * W] = dx[at + 2 * W + 1] = 0.0f;
        if (W % 2 == 1 && ow == OW - 1) dx[at + 2 * W + 2] = 0.0f;
    }
}
#endif
