/* cpu_isa.h — which x86 vector extensions the running CPU has, for the modules that pick a
 * code path at run time (the FFT, the executor's C kernels): one place for the checks.
 * Always false where the compiler cannot ask (not x86, not GCC/Clang).
 */
#ifndef BL_CPU_ISA_H
#define BL_CPU_ISA_H

#include <stdbool.h>

static inline bool bl_cpu_has_avx2(void) {
#if (defined(__x86_64__) || defined(__i386__)) && defined(__GNUC__)
    __builtin_cpu_init();
    return __builtin_cpu_supports("avx2") != 0;
#else
    return false;
#endif
}

static inline bool bl_cpu_has_avx512f(void) {
#if (defined(__x86_64__) || defined(__i386__)) && defined(__GNUC__)
    __builtin_cpu_init();
    return __builtin_cpu_supports("avx512f") != 0;
#else
    return false;
#endif
}

#endif
