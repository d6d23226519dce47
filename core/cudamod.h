/* cudamod.h — finding, loading and checking the CUDA backend module (libbaleen_cuda.so), and
 * what it says about the machine's GPUs (DESIGN §3: the binary starts and runs on the CPU
 * with no CUDA library installed; the module is loaded at run time when present).
 *
 * Where the module is looked for, first found wins:
 *   1. $BL_CUDA_MODULE (a path to the module file): an explicit choice;
 *   2. next to the `baleen` executable (the build folder, or bin/ of a relocated install);
 *   3. <install prefix>/lib/baleen/libbaleen_cuda.so.
 * It is opened with dlopen (RTLD_NOW | RTLD_LOCAL), then checked: its ABI version
 * (kernels/module_abi.h) and the baleen version and commit it was built with must equal the
 * binary's. Then it probes the GPUs (driver, runtime, cuFFT, cuDNN, cuBLAS versions; per
 * device name, compute capability, memory).
 *
 * Every way this can fail has its own reason, said in one line: the module is missing (and
 * where it was looked for), its libraries are missing (dlopen's message), the handshake fails
 * (which version), there is no driver, no device, or every device is too old (compute
 * capability below 7.5, Turing).
 *
 * Defines: bl_cuda_status (the outcome), bl_cuda_module_get(), bl_cuda_describe().
 * Threading: bl_cuda_module_get loads and probes once per process (pthread_once); the
 * result is read-only afterwards.
 */
#ifndef BL_CUDAMOD_H
#define BL_CUDAMOD_H

#include <stdbool.h>
#include <stddef.h>

#include "kernels/module_abi.h" /* bl_cuda_probe_result (plain C) */

#define BL_CUDA_MIN_CC_MAJOR 7 /* Turing (7.5) and newer: the architectures the module is built for */
#define BL_CUDA_MIN_CC_MINOR 5

typedef enum {
    BL_CUDA_OK = 0,          /* module loaded, at least one usable device */
    BL_CUDA_NO_MODULE,       /* no module file where it is looked for */
    BL_CUDA_LOAD_FAILED,     /* dlopen failed (a CUDA library missing, a broken file) */
    BL_CUDA_BAD_MODULE,      /* entry points missing, or the handshake refused it */
    BL_CUDA_NO_DRIVER,       /* no NVIDIA driver, or one too old for the runtime */
    BL_CUDA_NO_DEVICE,       /* a driver but no device */
    BL_CUDA_TOO_OLD,         /* devices, all below the minimum compute capability */
} bl_cuda_status;

typedef struct {
    bl_cuda_status status;
    char path[4096];             /* the module file (found or tried last) */
    char reason[1024];           /* one line: why CUDA cannot run here ("" when it can) */
    bool probed;                 /* the probe ran (the module loaded and was accepted) */
    bl_cuda_probe_result probe;  /* its result */
    int n_usable;                /* devices at or above the minimum compute capability */
} bl_cuda_info;

/* The module's state for this process (loaded and probed on the first call). Never NULL. */
const bl_cuda_info *bl_cuda_module_get(void);
/* A version number as text into buf ("none" for 0). `kind`: 'r' runtime or driver
 * (major*1000 + minor*10: 13000 → "13.0"), 'f' cuFFT (major*1000 + minor*100 + patch: 12000 →
 * "12.0.0"), 'd' cuDNN and 'b' cuBLAS (major*10000 + minor*100 + patch: 91900 → "9.19.0"). */
void bl_cuda_version_text(int v, char kind, char *buf, size_t cap);

#endif
