/* emu.h — host emulation of the CUDA kernel language subset used by the kernels
 * (kernels/<name>.cu).
 *
 * Defines, for the host C compiler only (never under nvcc):
 *   - the qualifiers __global__, __device__, __host__, __forceinline__, __restrict__;
 *   - dim3 and the builtins threadIdx, blockIdx, blockDim, gridDim;
 *   - BL_DIM3(x, y, z), BL_LAUNCH(kernel, grid, block, stream, args...) and
 *     BL_KERNEL_LAUNCH_CHECK(), with the same meaning as their CUDA forms in cuda_compat.h;
 *   - bl_stream_t (void *; the emulation has no streams, launches complete before returning).
 * A launch runs every (block, thread) pair once, sequentially, in CUDA's linear order
 * (x fastest, then y, then z; blocks likewise). With BL_EMU_ORDER=reverse in the
 * environment the pairs run in reverse order, so that a test can show that a kernel's result
 * does not depend on the order its threads happen to run in. A launch whose configuration
 * CUDA would reject (a zero dimension, more than 1024 threads per block, a grid over the
 * device limits) runs nothing and is reported by the next BL_KERNEL_LAUNCH_CHECK(), as
 * cudaGetLastError() would.
 *
 * Owns: per-translation-unit, thread-local builtins and a thread-local pending launch error
 * (thread-local so that host threads may run emulated kernels concurrently; the builtins
 * are only read by kernel code running on the same thread as its launch).
 *
 * Threading: a launch is synchronous and touches only the calling thread's state.
 * This header is the emulation only; kernels include kernels/cuda_compat.h, which picks it.
 */
#ifndef BL_KERNELS_EMU_H
#define BL_KERNELS_EMU_H

#ifdef __CUDACC__
#error "kernels/emu.h is the host emulation; under nvcc include kernels/cuda_compat.h"
#endif

#include <math.h>   /* expf, logf, powf, sqrtf, log10f, fmaxf, fminf: device math on the host */
#include <stddef.h> /* size_t */
#include <stdio.h>  /* snprintf for the launch error */
#include <stdlib.h> /* getenv for BL_EMU_ORDER */
#include <string.h> /* strcmp */

#include "core/error.h" /* bl_status and bl_error_set for BL_KERNEL_LAUNCH_CHECK */

#define __global__
#define __device__
#define __host__
#define __forceinline__ inline
#define __restrict__ restrict

typedef struct {
    unsigned x, y, z;
} dim3;

typedef void *bl_stream_t;

#define BL_DIM3(x, y, z) ((dim3){(unsigned)(x), (unsigned)(y), (unsigned)(z)})

/* The builtins. Unused in a file that includes this header but launches nothing. */
static _Thread_local dim3 threadIdx __attribute__((unused));
static _Thread_local dim3 blockIdx __attribute__((unused));
static _Thread_local dim3 blockDim __attribute__((unused));
static _Thread_local dim3 gridDim __attribute__((unused));
/* What the next BL_KERNEL_LAUNCH_CHECK() reports (NULL: nothing pending). */
static _Thread_local const char *bl_emu_pending_error_ __attribute__((unused));
static _Thread_local char bl_emu_error_buf_[160] __attribute__((unused));
/* BL_EMU_ORDER=reverse, read once per launch. */
static _Thread_local int bl_emu_reverse_ __attribute__((unused));

/* Device limits of every GPU baleen targets (compute capability 7.5 and newer). */
enum {
    BL_EMU_MAX_THREADS_PER_BLOCK = 1024,
    BL_EMU_MAX_BLOCK_X = 1024,
    BL_EMU_MAX_BLOCK_Y = 1024,
    BL_EMU_MAX_BLOCK_Z = 64,
    BL_EMU_MAX_GRID_Y = 65535,
    BL_EMU_MAX_GRID_Z = 65535
};
#define BL_EMU_MAX_GRID_X 2147483647u

/* Validate a launch configuration as the CUDA runtime does; on rejection remember the error
 * for BL_KERNEL_LAUNCH_CHECK() and return 0. Otherwise set gridDim/blockDim and return the
 * number of (block, thread) pairs to run. */
static inline size_t bl_emu_launch_begin_(dim3 g, dim3 b, const char *kernel) {
    unsigned long long threads = (unsigned long long)b.x * b.y * b.z;
    const char *why = NULL;
    if (!g.x || !g.y || !g.z || !b.x || !b.y || !b.z)
        why = "a grid or block dimension is zero";
    else if (b.x > BL_EMU_MAX_BLOCK_X || b.y > BL_EMU_MAX_BLOCK_Y || b.z > BL_EMU_MAX_BLOCK_Z ||
             threads > BL_EMU_MAX_THREADS_PER_BLOCK)
        why = "too many threads per block";
    else if (g.x > BL_EMU_MAX_GRID_X || g.y > BL_EMU_MAX_GRID_Y || g.z > BL_EMU_MAX_GRID_Z)
        why = "grid larger than the device limit";
    if (why) {
        snprintf(bl_emu_error_buf_, sizeof bl_emu_error_buf_,
                 "invalid configuration for %s: grid (%u,%u,%u) block (%u,%u,%u): %s", kernel,
                 g.x, g.y, g.z, b.x, b.y, b.z, why);
        bl_emu_pending_error_ = bl_emu_error_buf_;
        return 0;
    }
    gridDim = g;
    blockDim = b;
    const char *order = getenv("BL_EMU_ORDER");
    bl_emu_reverse_ = order && strcmp(order, "reverse") == 0;
    return (size_t)g.x * g.y * g.z * (size_t)threads;
}

/* Set the builtins for the i-th (block, thread) pair in CUDA's linear order. */
static inline void bl_emu_set_thread_(size_t i, size_t n) {
    if (bl_emu_reverse_) i = n - 1 - i;
    size_t per_block = (size_t)blockDim.x * blockDim.y * blockDim.z;
    size_t blk = i / per_block, thr = i % per_block;
    threadIdx.x = (unsigned)(thr % blockDim.x);
    threadIdx.y = (unsigned)(thr / blockDim.x % blockDim.y);
    threadIdx.z = (unsigned)(thr / blockDim.x / blockDim.y);
    blockIdx.x = (unsigned)(blk % gridDim.x);
    blockIdx.y = (unsigned)(blk / gridDim.x % gridDim.y);
    blockIdx.z = (unsigned)(blk / gridDim.x / gridDim.y);
}

/* Arguments are evaluated once per emulated thread: pass plain values, not expressions with
 * side effects (the CUDA form evaluates them once). */
#define BL_LAUNCH(kernel, grid, block, stream, ...)                                    \
    do {                                                                               \
        (void)(stream);                                                                \
        size_t bl_emu_n_ = bl_emu_launch_begin_((grid), (block), #kernel);             \
        for (size_t bl_emu_i_ = 0; bl_emu_i_ < bl_emu_n_; bl_emu_i_++) {               \
            bl_emu_set_thread_(bl_emu_i_, bl_emu_n_);                                  \
            kernel(__VA_ARGS__);                                                       \
        }                                                                              \
    } while (0)

/* In a function returning bl_status, after a launch: return BL_ERR_DEVICE if the launch was
 * rejected (clearing the pending error, as cudaGetLastError() does). */
#define BL_KERNEL_LAUNCH_CHECK()                                                       \
    do {                                                                               \
        const char *bl_emu_e_ = bl_emu_pending_error_;                                 \
        bl_emu_pending_error_ = NULL;                                                  \
        if (bl_emu_e_)                                                                 \
            return bl_error_set(BL_ERR_DEVICE, __FILE__, __LINE__,                     \
                                "kernel launch failed (emulation): %s", bl_emu_e_);    \
    } while (0)

#endif /* BL_KERNELS_EMU_H */
