#include "VectorKernels.h"

#include <string.h>

extern const vk_isa vk_isa_baseline;
#if defined(__x86_64__)
extern const vk_isa vk_isa_avx512, vk_isa_avx2;
#endif

/// Whether the processor and the operating system (which must save the wider registers) support `isa`.
static int supported(const vk_isa *isa) {
#if defined(__x86_64__)
    __builtin_cpu_init();
    if (isa == &vk_isa_avx512) return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("fma");
    if (isa == &vk_isa_avx2) return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
#endif
    return isa == &vk_isa_baseline;
}

/// Every instruction set, widest first.
static const vk_isa *const all[] = {
#if defined(__x86_64__)
    &vk_isa_avx512, &vk_isa_avx2,
#endif
    &vk_isa_baseline,
};

const vk_isa *vk_isa_best(void) {
    for (size_t i = 0; i < sizeof all / sizeof all[0]; i++)
        if (supported(all[i])) return all[i];
    return &vk_isa_baseline;
}

const vk_isa *vk_isa_named(const char *name) {
    for (size_t i = 0; i < sizeof all / sizeof all[0]; i++)
        if (strcmp(all[i]->name, name) == 0) return supported(all[i]) ? all[i] : NULL;
    return NULL;
}
