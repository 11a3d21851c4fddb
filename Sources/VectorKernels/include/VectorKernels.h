#ifndef CONFLUX_VECTOR_KERNELS_H
#define CONFLUX_VECTOR_KERNELS_H

/// CPU kernels written once in C with vector types and compiled for each x86 instruction set (AVX-512, AVX2 and
/// the baseline), chosen at run time: Swift code builds for the baseline processor, so the inner loops that
/// need the processor's full width live here.
///
/// Convolutions are direct (no im2col buffer) for stride 1, in one of two layouts chosen by `vk_conv_init`:
/// - by position, when a convolution has fewer output channels than a vector has lanes (LeNet's conv1), or a 1×1
///   window (MobileNet's expansions and projections):
///   the input is zero-padded and read as one flat row, so that every filter tap is a shifted vector load and
///   output positions fill the lanes; the columns of the padded grid that fall outside the output are computed
///   and dropped;
/// - by channel, otherwise: output channels fill the lanes and each input value is broadcast.

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

/// One image's stride-1 convolution, its layout and the memory it needs, filled in by `vk_conv_init`.
typedef struct vk_conv {
    int channels, height, width;
    int out_channels, kernel_h, kernel_w;
    int pad_top, pad_left;
    int out_h, out_w;

    /// The zero-padded input: padded_h × padded_w per channel.
    int padded_h, padded_w;
    /// Filter taps per output channel: channels · kernel_h · kernel_w.
    int taps;
    /// Nonzero when output channels fill the vector lanes; zero when output positions do.
    int by_channel;
    /// Output channels per group of packed filters (by position) or lanes per vector (by channel).
    int group;
    /// Output channels rounded up to whole groups.
    int padded_out_channels;
    /// Positions of the flattened padded grid computed by position, a whole number of vectors.
    int grid_positions;
    /// Floats of the padded input on that grid: its planes and the zeros the last vector reaches past them.
    size_t grid_input_size;
    /// Floats per vector of the instruction set.
    int lanes;
    /// Floats of packed filters (`vk_conv_pack_filter` and `vk_conv_pack_filter_for_input_gradient`), of
    /// per-image scratch, and of one worker's filter-gradient partial sum.
    size_t packed_filter_size, input_gradient_filter_size, scratch_size, filter_partial_size;
} vk_conv;

/// One plane of a depthwise convolution (a group per input channel): its geometry and the zero-padded plane
/// the kernel reads, filled in by `vk_depthwise_init`.
typedef struct vk_depthwise {
    int height, width, kernel_h, kernel_w, stride_h, stride_w, dilation_h, dilation_w, pad_top, pad_left;
    int out_h, out_w;
    /// The padded plane: every row an output row's windows reach, every column its widest window reaches.
    int padded_h, padded_w;
    /// Floats of scratch per plane: the padded plane.
    size_t scratch_size;
} vk_depthwise;

/// The kernels of one instruction set.
typedef struct vk_isa {
    /// "avx512", "avx2" or "baseline".
    const char *name;
    /// Floats per vector.
    int vector_width;
    /// One image: `y` [out_channels, out_h, out_w] = max(conv(x, filter) + bias, 0 if relu) from `x`
    /// [channels, height, width] and `packed` from `vk_conv_pack_filter`; `bias` may be NULL. Only the output
    /// channels [first, end) are computed, whole vectors by channel and whole groups by position (`end` may be
    /// `padded_out_channels`), so that cores can share one image.
    void (*conv_forward)(const vk_conv *conv, const float *x, const float *packed, const float *bias, int relu,
                         float *y, float *scratch, int first, int end);
    /// One image's input gradient `dx` [channels, height, width] from `dy` [out_channels, out_h, out_w] and
    /// `packed` from `vk_conv_pack_filter_for_input_gradient`: each output position's gradient, a vector of
    /// positions at a time, is added into every input position its window covers.
    void (*conv_input_gradient)(const vk_conv *conv, const float *dy, const float *packed, float *dx, float *scratch);
    /// One image's filter gradient from `x` and `dy` [out_channels, out_h, out_w], added to `partial`
    /// (`filter_partial_size` floats, zeroed before the first image); `vk_conv_filter_gradient` sums partials.
    void (*conv_filter_gradient)(const vk_conv *conv, const float *x, const float *dy, float *partial,
                                 float *scratch);
    /// One plane of a depthwise convolution: `y` [out_h, out_w] = max(conv(x, filter) + bias, 0 if relu) from
    /// `x` [height, width] and `filter` [kernel_h, kernel_w].
    void (*depthwise_forward)(const vk_depthwise *d, const float *x, const float *filter, float bias, int relu,
                              float *y, float *scratch);
} vk_isa;

/// The widest instruction set this processor and operating system support.
const vk_isa *vk_isa_best(void);
/// The instruction set called `name`, or NULL when it is unknown or this processor lacks it.
const vk_isa *vk_isa_named(const char *name);

/// Describes a stride-1 convolution for `isa`'s kernels.
void vk_conv_init(vk_conv *conv, const vk_isa *isa, int channels, int height, int width, int out_channels,
                  int kernel_h, int kernel_w, int pad_top, int pad_left, int out_h, int out_w);
/// Describes one plane of a depthwise convolution for `depthwise_forward`.
void vk_depthwise_init(vk_depthwise *d, int height, int width, int kernel_h, int kernel_w, int stride_h, int stride_w,
                       int dilation_h, int dilation_w, int pad_top, int pad_left, int out_h, int out_w);
/// Lays out `filter` [out_channels, channels, kernel_h, kernel_w] for `conv_forward`: its blocks [first, end) of
/// `group` output channels (padded_out_channels / group blocks in all), so that cores can share the packing.
void vk_conv_pack_filter(const vk_conv *conv, const float *filter, int first, int end, float *packed);
/// Lays out `filter` for `conv_input_gradient`, output channels in vector lanes: its blocks [first, end) of `lanes`
/// output channels (input_gradient_filter_size / taps / lanes blocks in all).
void vk_conv_pack_filter_for_input_gradient(const vk_conv *conv, const float *filter, int first, int end,
                                            float *packed);
/// The filter gradient [out_channels, channels, kernel_h, kernel_w]: the sum of `count` partials.
void vk_conv_filter_gradient(const vk_conv *conv, const float *const *partials, int count, float *filter_gradient);

/// 2×2 max pooling with stride 2 and no padding, the pooling of most CNNs: `y` [planes, height / 2, width / 2]
/// from `x` [planes, height, width]; a window's first maximum in row-major order wins (a later one only when
/// larger, so a NaN only in the first place). Memory-bound: 4-float vectors on every processor.
void vk_max_pool_halving(const float *x, int planes, int height, int width, float *y);
/// Its gradient: each of `dy` [planes, height / 2, width / 2] goes to its window's first maximum in `dx`
/// [planes, height, width], zeros elsewhere; with `relu`, only where that maximum is positive (the gradient of
/// the ReLU that produced `x`, fused).
void vk_max_pool_halving_gradient(const float *x, const float *dy, int planes, int height, int width, int relu,
                                  float *dx);
/// One output row `oy` of a max pooling of a channels-last image `x` [height, width, channels] into `y` [out_width,
/// channels]: each output pixel the maximum of its window's pixels inside the image (-infinity for none), the
/// window `kernel` high and wide, moved by `stride`, shifted by `pad` (top, left), its taps `dilation` apart.
void vk_max_pool_channels_last_row(const float *x, int height, int width, int channels, int oy, int out_width,
                                   const int kernel[2], const int stride[2], const int pad[2], const int dilation[2],
                                   float *y);

#ifdef __cplusplus
}
#endif

#endif
