// The kernels for processors with AVX-512 (Skylake-X and later, Zen 4 and later): 16 floats per vector and
// 32 vector registers.
#if defined(__x86_64__)
#pragma clang attribute push(__attribute__((target("avx512f,avx512vl,avx512dq,avx512bw,avx2,fma"))), \
                             apply_to = function)
#define VK_LANES 16
#define VK_ROW_BLOCK 3
#define VK_TAP_BLOCK 5
#define VK_POSITION_BLOCK 8
#define VK_PAIR_POSITION_BLOCK 8
#define VK_ISA vk_isa_avx512
#define VK_ISA_NAME "avx512"
#include "ConvolutionKernels.inc"
#include "DepthwiseKernels.inc"
#include "Table.inc"
#pragma clang attribute pop
#endif
