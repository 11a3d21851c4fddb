// The kernels for processors with AVX2 and FMA (Haswell and later, Zen 1 and later): 8 floats per vector and
// 16 vector registers.
#if defined(__x86_64__)
#pragma clang attribute push(__attribute__((target("avx2,fma"))), apply_to = function)
#define VK_LANES 8
#define VK_ROW_BLOCK 2
#define VK_TAP_BLOCK 4
#define VK_POSITION_BLOCK 8
#define VK_PAIR_POSITION_BLOCK 6
#define VK_ISA vk_isa_avx2
#define VK_ISA_NAME "avx2"
#include "ConvolutionKernels.inc"
#include "DepthwiseKernels.inc"
#include "Table.inc"
#pragma clang attribute pop
#endif
