#include "VectorKernels.h"

#include <string.h>

// A vector of four outputs reads two vectors of each of its two input rows and splits them into even and odd
// columns; the windows left over at the end of a row go one at a time.

typedef float quad __attribute__((vector_size(16)));
typedef int quad_mask __attribute__((vector_size(16)));

static inline quad load(const float *p) {
    quad v;
    memcpy(&v, p, sizeof v);
    return v;
}

static inline void store(float *p, quad v) { memcpy(p, &v, sizeof v); }

static inline quad evens(quad a, quad b) { return __builtin_shufflevector(a, b, 0, 2, 4, 6); }
static inline quad odds(quad a, quad b) { return __builtin_shufflevector(a, b, 1, 3, 5, 7); }

/// Lane by lane, `yes` where `m` is set (a comparison's all-ones), else `no`.
static inline quad pick(quad_mask m, quad yes, quad no) { return (quad)(((quad_mask)yes & m) | ((quad_mask)no & ~m)); }

/// The first maximum of the window (a, b, c, d) in row-major order and its place, without branches: which one
/// wins is data, and a mispredicted branch per window costs more than the window's work.
static inline float window_max(float a, float b, float c, float d, int *winner) {
    float best = a;
    int place = 0;
    place = b > best ? 1 : place, best = b > best ? b : best;
    place = c > best ? 2 : place, best = c > best ? c : best;
    place = d > best ? 3 : place, best = d > best ? d : best;
    *winner = place;
    return best;
}

void vk_max_pool_halving(const float *x, int planes, int height, int width, float *y) {
    const int oh = height / 2, ow = width / 2;
    for (int p = 0; p < planes; p++) {
        for (int r = 0; r < oh; r++) {
            const float *top = x + ((size_t)p * height + 2 * r) * width, *bottom = top + width;
            float *out = y + ((size_t)p * oh + r) * ow;
            int o = 0;
            for (; o + 4 <= ow; o += 4) {
                const quad t0 = load(top + 2 * o), t1 = load(top + 2 * o + 4);
                const quad b0 = load(bottom + 2 * o), b1 = load(bottom + 2 * o + 4);
                const quad a = evens(t0, t1), b = odds(t0, t1), c = evens(b0, b1), d = odds(b0, b1);
                quad best = a;
                best = pick(b > best, b, best);
                best = pick(c > best, c, best);
                best = pick(d > best, d, best);
                store(out + o, best);
            }
            for (; o < ow; o++) {
                int winner;
                out[o] = window_max(top[2 * o], top[2 * o + 1], bottom[2 * o], bottom[2 * o + 1], &winner);
            }
        }
    }
}

void vk_max_pool_halving_gradient(const float *x, const float *dy, int planes, int height, int width, int relu,
                                  float *dx) {
    const int oh = height / 2, ow = width / 2;
    memset(dx, 0, (size_t)planes * height * width * sizeof(float));
    const quad zero = {0};
    for (int p = 0; p < planes; p++) {
        for (int r = 0; r < oh; r++) {
            const size_t row = ((size_t)p * height + 2 * r) * width;
            const float *top = x + row, *bottom = top + width;
            float *dtop = dx + row, *dbottom = dtop + width;
            const float *g = dy + ((size_t)p * oh + r) * ow;
            int o = 0;
            for (; o + 4 <= ow; o += 4) {
                const quad t0 = load(top + 2 * o), t1 = load(top + 2 * o + 4);
                const quad b0 = load(bottom + 2 * o), b1 = load(bottom + 2 * o + 4);
                const quad a = evens(t0, t1), b = odds(t0, t1), c = evens(b0, b1), d = odds(b0, b1);
                const quad gradient = load(g + o);
                // Each later candidate that wins takes the gradient from the ones before it.
                quad best = a, ga = gradient, gb = zero, gc = zero, gd = zero;
                quad_mask wins = b > best;
                ga = pick(wins, zero, ga), gb = pick(wins, gradient, gb), best = pick(wins, b, best);
                wins = c > best;
                ga = pick(wins, zero, ga), gb = pick(wins, zero, gb), gc = pick(wins, gradient, gc);
                best = pick(wins, c, best);
                wins = d > best;
                ga = pick(wins, zero, ga), gb = pick(wins, zero, gb), gc = pick(wins, zero, gc);
                gd = pick(wins, gradient, gd), best = pick(wins, d, best);
                if (relu) {
                    // The ReLU that produced x passes gradient only where its output, the window's maximum, is
                    // positive.
                    const quad_mask positive = best > zero;
                    ga = pick(positive, ga, zero), gb = pick(positive, gb, zero);
                    gc = pick(positive, gc, zero), gd = pick(positive, gd, zero);
                }
                store(dtop + 2 * o, __builtin_shufflevector(ga, gb, 0, 4, 1, 5));
                store(dtop + 2 * o + 4, __builtin_shufflevector(ga, gb, 2, 6, 3, 7));
                store(dbottom + 2 * o, __builtin_shufflevector(gc, gd, 0, 4, 1, 5));
                store(dbottom + 2 * o + 4, __builtin_shufflevector(gc, gd, 2, 6, 3, 7));
            }
            for (; o < ow; o++) {
                int winner;
                const float best = window_max(top[2 * o], top[2 * o + 1], bottom[2 * o], bottom[2 * o + 1], &winner);
                const float gradient = relu && !(best > 0) ? 0 : g[o];
                dtop[2 * o] = winner == 0 ? gradient : 0;
                dtop[2 * o + 1] = winner == 1 ? gradient : 0;
                dbottom[2 * o] = winner == 2 ? gradient : 0;
                dbottom[2 * o + 1] = winner == 3 ? gradient : 0;
            }
        }
    }
}

/// The taps of a window inside an image of `size`: from `first` (the window's start), `count` taps `dilation`
/// apart; sets `*low` and `*high` to the range of tap indices that fall inside.
static inline void inside(int first, int count, int dilation, int size, int *low, int *high) {
    int lo = 0, hi = count;
    while (lo < hi && first + lo * dilation < 0) lo++;
    while (hi > lo && first + (hi - 1) * dilation >= size) hi--;
    *low = lo, *high = hi;
}

/// The maxima of `QUADS` × 4 channels from `c` over a window's pixels inside the image, kept in registers.
#define WINDOW_MAX(QUADS)                                                                                          \
    for (; c + 4 * (QUADS) <= channels; c += 4 * (QUADS)) {                                                       \
        quad m[QUADS];                                                                                             \
        for (int q = 0; q < (QUADS); q++) m[q] = (quad){-__builtin_inff(), -__builtin_inff(), -__builtin_inff(),  \
                                                        -__builtin_inff()};                                        \
        for (int ki = row_low; ki < row_high; ki++) {                                                              \
            const float *row = x + (size_t)(top + ki * dilation[0]) * width * channels + c;                        \
            for (int kj = column_low; kj < column_high; kj++) {                                                    \
                const float *p = row + (size_t)(left + kj * dilation[1]) * channels;                               \
                for (int q = 0; q < (QUADS); q++) {                                                                \
                    const quad v = load(p + 4 * q);                                                                \
                    m[q] = pick(v > m[q], v, m[q]);                                                                \
                }                                                                                                  \
            }                                                                                                      \
        }                                                                                                          \
        for (int q = 0; q < (QUADS); q++) store(out + c + 4 * q, m[q]);                                            \
    }

void vk_max_pool_channels_last_row(const float *x, int height, int width, int channels, int oy, int out_width,
                                   const int kernel[2], const int stride[2], const int pad[2], const int dilation[2],
                                   float *y) {
    const int top = oy * stride[0] - pad[0];
    int row_low, row_high;
    inside(top, kernel[0], dilation[0], height, &row_low, &row_high);
    for (int ox = 0; ox < out_width; ox++) {
        const int left = ox * stride[1] - pad[1];
        int column_low, column_high;
        inside(left, kernel[1], dilation[1], width, &column_low, &column_high);
        float *out = y + (size_t)ox * channels;
        int c = 0;
        // A whole pixel of 64 channels per pass reads each window pixel once; what is left, 4 channels a pass.
        WINDOW_MAX(16)
        WINDOW_MAX(1)
        for (; c < channels; c++) {
            float m = -__builtin_inff();
            for (int ki = row_low; ki < row_high; ki++) {
                for (int kj = column_low; kj < column_high; kj++) {
                    const float v =
                        x[((size_t)(top + ki * dilation[0]) * width + left + kj * dilation[1]) * channels + c];
                    m = v > m ? v : m;
                }
            }
            out[c] = m;
        }
    }
}
