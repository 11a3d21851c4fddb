#include "VectorKernels.h"
#include "ConvolutionLayout.h"

#include <string.h>

static int round_up(int value, int multiple) { return (value + multiple - 1) / multiple * multiple; }

void vk_conv_init(vk_conv *conv, const vk_isa *isa, int channels, int height, int width, int out_channels,
                  int kernel_h, int kernel_w, int pad_top, int pad_left, int out_h, int out_w) {
    const int lanes = isa->vector_width;
    *conv = (vk_conv){
        .channels = channels, .height = height, .width = width,
        .out_channels = out_channels, .kernel_h = kernel_h, .kernel_w = kernel_w,
        .pad_top = pad_top, .pad_left = pad_left, .out_h = out_h, .out_w = out_w,
        .padded_h = out_h + kernel_h - 1, .padded_w = out_w + kernel_w - 1,
        .taps = channels * kernel_h * kernel_w,
        // A 1×1 window has too few taps per output for the channel layout's transposes to pay.
        .by_channel = out_channels >= lanes && kernel_h * kernel_w > 1,
        .lanes = lanes,
    };
    const size_t padded_input = (size_t)channels * conv->padded_h * conv->padded_w;
    // Tap offsets, padded to whole register blocks by repeating the last one.
    const size_t tap_list = (size_t)conv->taps + VK_MAX_TAP_BLOCK;
    const int flat = (out_h - 1) * conv->padded_w + out_w;
    conv->grid_positions = round_up(flat, lanes);
    // A vector at the last grid position reaches past the padded image by up to the rounding.
    const size_t grid_input = padded_input + (size_t)(conv->grid_positions - flat);
    conv->grid_input_size = grid_input;
    const int lane_channels = round_up(out_channels, lanes);
    const size_t input_gradient = grid_input + (size_t)lane_channels * conv->grid_positions;
    if (conv->by_channel) {
        conv->group = lanes;
        conv->padded_out_channels = lane_channels;
        const size_t positions = (size_t)out_h * out_w;
        conv->scratch_size = padded_input + positions * conv->padded_out_channels + positions + tap_list;
        conv->filter_partial_size = (size_t)conv->taps * conv->padded_out_channels;
    } else {
        conv->group = out_channels < VK_MAX_POSITION_GROUP ? out_channels : VK_MAX_POSITION_GROUP;
        conv->padded_out_channels = round_up(out_channels, conv->group);
        const size_t rows = (size_t)(out_channels > conv->group ? out_channels : conv->group) + VK_MAX_ROW_BLOCK;
        conv->scratch_size = grid_input + rows * conv->grid_positions + tap_list;
        conv->filter_partial_size = (size_t)out_channels * conv->taps;
    }
    if (conv->scratch_size < input_gradient) conv->scratch_size = input_gradient;
    conv->input_gradient_filter_size = (size_t)lane_channels * conv->taps;
    conv->packed_filter_size = (size_t)conv->padded_out_channels * conv->taps;
}

/// `filter` as [padded / group][taps][group], zeros for the channels past out_channels: the blocks of output
/// channels [first, end) only, multiples of `group`. Written in order, each block reading `group` filters side by
/// side: ResNet-18's last layers pack 9 MB per call.
static void pack(const vk_conv *conv, const float *filter, int group, int first, int end, float *packed) {
    const int taps = conv->taps;
    for (int o0 = first; o0 < end; o0 += group) {
        const int real = conv->out_channels - o0 < group ? conv->out_channels - o0 : group;
        float *dst = packed + (size_t)o0 * taps;
        for (int t = 0; t < taps; t++, dst += group) {
            for (int j = 0; j < real; j++) dst[j] = filter[(size_t)(o0 + j) * taps + t];
            for (int j = real < 0 ? 0 : real; j < group; j++) dst[j] = 0;
        }
    }
}

void vk_conv_pack_filter(const vk_conv *conv, const float *filter, int first, int end, float *packed) {
    pack(conv, filter, conv->group, first * conv->group, end * conv->group, packed);
}

void vk_conv_pack_filter_for_input_gradient(const vk_conv *conv, const float *filter, int first, int end,
                                            float *packed) {
    pack(conv, filter, conv->lanes, first * conv->lanes, end * conv->lanes, packed);
}

void vk_conv_filter_gradient(const vk_conv *conv, const float *const *partials, int count, float *filter_gradient) {
    // By channel the partials are [taps][padded_out_channels]; by position already [out_channels][taps].
    const int taps = conv->taps, out_channels = conv->out_channels;
    for (int o = 0; o < out_channels; o++) {
        for (int t = 0; t < taps; t++) {
            const size_t at = conv->by_channel ? (size_t)t * conv->padded_out_channels + o : (size_t)o * taps + t;
            float sum = 0;
            for (int k = 0; k < count; k++) sum += partials[k][at];
            filter_gradient[(size_t)o * taps + t] = sum;
        }
    }
}

void vk_depthwise_init(vk_depthwise *d, int height, int width, int kernel_h, int kernel_w, int stride_h, int stride_w,
                       int dilation_h, int dilation_w, int pad_top, int pad_left, int out_h, int out_w) {
    *d = (vk_depthwise){
        .height = height, .width = width, .kernel_h = kernel_h, .kernel_w = kernel_w,
        .stride_h = stride_h, .stride_w = stride_w, .dilation_h = dilation_h, .dilation_w = dilation_w,
        .pad_top = pad_top, .pad_left = pad_left, .out_h = out_h, .out_w = out_w,
        .padded_h = (out_h - 1) * stride_h + (kernel_h - 1) * dilation_h + 1,
        .padded_w = (out_w - 1) * stride_w + (kernel_w - 1) * dilation_w + 1,
    };
    // The plane's own rows and columns may reach past the windows (padding on one side only): room for both.
    if (d->padded_h < pad_top + height) d->padded_h = pad_top + height;
    if (d->padded_w < pad_left + width) d->padded_w = pad_left + width;
    d->scratch_size = (size_t)d->padded_h * d->padded_w;
}
