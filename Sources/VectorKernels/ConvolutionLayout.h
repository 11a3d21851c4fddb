#ifndef CONFLUX_CONVOLUTION_LAYOUT_H
#define CONFLUX_CONVOLUTION_LAYOUT_H

// Bounds shared by vk_conv_init, which sizes the scratch memory, and the kernels of every instruction set.

/// By position, output channels computed together per vector of positions.
#define VK_MAX_POSITION_GROUP 8
/// The largest register block of the filter gradient: output channels (by position) and taps.
#define VK_MAX_ROW_BLOCK 4
#define VK_MAX_TAP_BLOCK 8

#endif
