/* cuda_compat.h — the one header every kernels/<name>.cu includes first: the same names
 * mean the CUDA thing under nvcc and the host emulation (kernels/emu.h) under a C compiler.
 *
 * Defines in both builds:
 *   bl_stream_t                      cudaStream_t | void * (ignored by the emulation)
 *   BL_DIM3(x, y, z)                 a dim3 value
 *   BL_LAUNCH(k, grid, block, stream, args...)
 *                                    k<<<grid, block, 0, stream>>>(args) | loops on the host
 *   BL_KERNEL_LAUNCH_CHECK()         in a function returning bl_status: return BL_ERR_DEVICE
 *                                    (with the CUDA error string) if the launch failed
 *   BL_CUDA_CHECK(expr)              nvcc only: return BL_ERR_DEVICE when a CUDA runtime call
 *                                    fails; never exits
 *   BL_EXTERN_C                      extern "C" under nvcc, nothing in C
 * The rules of the C-compatible subset the kernels are written in are in docs/kernels.md.
 *
 * Owns nothing; threading as in emu.h (emulation) or the CUDA runtime (device).
 */
#ifndef BL_KERNELS_CUDA_COMPAT_H
#define BL_KERNELS_CUDA_COMPAT_H

#include "core/error.h" /* bl_status, bl_error_set: launch and runtime errors become statuses */

#ifdef __CUDACC__

#include <cuda_runtime.h> /* cudaStream_t, dim3, cudaGetLastError, device math */

typedef cudaStream_t bl_stream_t;

#define BL_EXTERN_C extern "C"
#define BL_DIM3(x, y, z) dim3((unsigned)(x), (unsigned)(y), (unsigned)(z))
#define BL_LAUNCH(kernel, grid, block, stream, ...) \
    kernel<<<(grid), (block), 0, (stream)>>>(__VA_ARGS__)

#define BL_CUDA_CHECK(expr)                                                            \
    do {                                                                               \
        cudaError_t bl_cuda_e_ = (expr);                                               \
        if (bl_cuda_e_ != cudaSuccess)                                                 \
            return bl_error_set(BL_ERR_DEVICE, __FILE__, __LINE__, "%s failed: %s (%s)", \
                                #expr, cudaGetErrorString(bl_cuda_e_),                 \
                                cudaGetErrorName(bl_cuda_e_));                         \
    } while (0)

#define BL_KERNEL_LAUNCH_CHECK() BL_CUDA_CHECK(cudaGetLastError())

#else /* host C compiler: the emulation */

#include "kernels/emu.h" /* qualifiers, dim3, builtins, BL_LAUNCH loops */

#define BL_EXTERN_C

#endif /* __CUDACC__ */

#endif /* BL_KERNELS_CUDA_COMPAT_H */
