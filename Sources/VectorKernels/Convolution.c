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
        .by_channel = out_channels >= lanes,
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

/// `filter` as [padded / group][taps][group], zeros for the channels past out_channels.
static void pack(const vk_conv *conv, const float *filter, int group, int padded, float *packed) {
    const int taps = conv->taps;
    memset(packed, 0, (size_t)padded * taps * sizeof(float));
    for (int o = 0; o < conv->out_channels; o++) {
        float *block = packed + (size_t)(o / group) * taps * group + o % group;
        for (int t = 0; t < taps; t++) block[(size_t)t * group] = filter[(size_t)o * taps + t];
    }
}

void vk_conv_pack_filter(const vk_conv *conv, const float *filter, float *packed) {
    pack(conv, filter, conv->group, conv->padded_out_channels, packed);
}

void vk_conv_pack_filter_for_input_gradient(const vk_conv *conv, const float *filter, float *packed) {
    pack(conv, filter, conv->lanes, (int)(conv->input_gradient_filter_size / conv->taps), packed);
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
