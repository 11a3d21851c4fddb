// Max- and average-pooling on NCHW planes. Windows are clipped to the input, so padding never wins a max; an
// average divides by its window within the input and the counted padding (CT, CB, CL, CR: count_include_pad).
// Geometry: planes = N*C, input H x W, output OH x OW, window KH x KW, strides SH, SW, leading pads PT (top),
// PL (left), max-pool taps DH, DW apart (dilation).

// The first tap of a window starting at `start` (taps `dilation` apart) that lies at 0 or after.
int first_tap(const int start, const int dilation) {
    return start < 0 ? start + (-start + dilation - 1) / dilation * dilation : start;
}

#define GEOMETRY const int planes, const int H, const int W, const int OH, const int OW, const int KH, \
    const int KW, const int SH, const int SW, const int PT, const int PL, const int DH, const int DW
#define COUNTED const int CT, const int CB, const int CL, const int CR

// The positions the window at (top, left) averages over.
float counted_size(const int top, const int left, const int H, const int W, const int KH, const int KW, COUNTED) {
    return (float)((min(top + KH, H + CB) - max(top, -CT)) * (min(left + KW, W + CR) - max(left, -CL)));
}

__kernel void max_pool(__global const float* x, __global float* y, GEOMETRY) {
    const int i = get_global_id(0);
    if (i >= planes * OH * OW) return;
    const int ox = i % OW, oy = (i / OW) % OH, plane = i / (OW * OH);
    const int top = oy * SH - PT, left = ox * SW - PL;
    __global const float* src = x + plane * H * W;
    float best = -INFINITY;
    for (int r = first_tap(top, DH); r < min(top + (KH - 1) * DH + 1, H); r += DH)
        for (int c = first_tap(left, DW); c < min(left + (KW - 1) * DW + 1, W); c += DW) best = fmax(best, src[r * W + c]);
    y[i] = best;
}

__kernel void avg_pool(__global const float* x, __global float* y, GEOMETRY, COUNTED) {
    const int i = get_global_id(0);
    if (i >= planes * OH * OW) return;
    const int ox = i % OW, oy = (i / OW) % OH, plane = i / (OW * OH);
    const int top = oy * SH - PT, left = ox * SW - PL;
    const int r0 = max(top, 0), r1 = min(top + KH, H), c0 = max(left, 0), c1 = min(left + KW, W);
    __global const float* src = x + plane * H * W;
    float total = 0.0f;
    for (int r = r0; r < r1; ++r)
        for (int c = c0; c < c1; ++c) total += src[r * W + c];
    y[i] = total / counted_size(top, left, H, W, KH, KW, CT, CB, CL, CR);
}

// The output windows that cover input row `r` (or column): those o with o*S - P <= r < o*S - P + K.
#define FIRST_WINDOW(r, K, S, P) max(0, ((r) + (P) - (K) + (S)) / (S))
#define LAST_WINDOW(r, S, P, O) min((O) - 1, ((r) + (P)) / (S))

// One work-item per input element: it gathers the gradient of every window whose first maximum it is, the windows
// with a tap on it found tap by tap.
__kernel void max_pool_grad(__global const float* x, __global const float* dy, __global float* dx, GEOMETRY) {
    const int i = get_global_id(0);
    if (i >= planes * H * W) return;
    const int c = i % W, r = (i / W) % H, plane = i / (W * H);
    __global const float* src = x + plane * H * W;
    float total = 0.0f;
    for (int kh = 0; kh < KH; ++kh) {
        const int y = r + PT - kh * DH;
        if (y < 0 || y % SH != 0 || y / SH >= OH) continue;
        for (int kw = 0; kw < KW; ++kw) {
            const int x0 = c + PL - kw * DW;
            if (x0 < 0 || x0 % SW != 0 || x0 / SW >= OW) continue;
            const int oy = y / SH, ox = x0 / SW;
            const int top = oy * SH - PT, left = ox * SW - PL;
            const int r0 = first_tap(top, DH), c0 = first_tap(left, DW);
            int best = r0 * W + c0;
            for (int rr = r0; rr < min(top + (KH - 1) * DH + 1, H); rr += DH)
                for (int cc = c0; cc < min(left + (KW - 1) * DW + 1, W); cc += DW)
                    if (src[rr * W + cc] > src[best]) best = rr * W + cc;
            if (best == r * W + c) total += dy[(plane * OH + oy) * OW + ox];
        }
    }
    dx[i] = total;
}

// One work-item per input element: the sum of its share of every window that covers it.
__kernel void avg_pool_grad(__global const float* dy, __global float* dx, GEOMETRY, COUNTED) {
    const int i = get_global_id(0);
    if (i >= planes * H * W) return;
    const int c = i % W, r = (i / W) % H, plane = i / (W * H);
    float total = 0.0f;
    for (int oy = FIRST_WINDOW(r, KH, SH, PT); oy <= LAST_WINDOW(r, SH, PT, OH); ++oy) {
        for (int ox = FIRST_WINDOW(c, KW, SW, PL); ox <= LAST_WINDOW(c, SW, PL, OW); ++ox) {
            const int top = oy * SH - PT, left = ox * SW - PL;
            total += dy[(plane * OH + oy) * OW + ox] / counted_size(top, left, H, W, KH, KW, CT, CB, CL, CR);
        }
    }
    dx[i] = total;
}
