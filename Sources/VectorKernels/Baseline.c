// The kernels for any processor, built for the target's baseline (SSE2 on x86-64, NEON on ARM64): 4 floats per
// vector.
#define VK_LANES 4
#define VK_ROW_BLOCK 2
#define VK_TAP_BLOCK 4
#define VK_POSITION_BLOCK 8
#define VK_PAIR_POSITION_BLOCK 6
#define VK_ISA vk_isa_baseline
#define VK_ISA_NAME "baseline"
#include "ConvolutionKernels.inc"
#include "DepthwiseKernels.inc"
#include "Table.inc"
