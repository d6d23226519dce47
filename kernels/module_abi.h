/* module_abi.h — what the CUDA backend module (libbaleen_cuda.so, loaded with dlopen by
 * core/cudamod.c) and the `baleen` binary agree on. Plain C types only: the binary never
 * includes a CUDA header, so `ldd baleen` lists no CUDA library.
 *
 * The handshake: the loader first calls bl_cuda_module_abi() and refuses a module whose ABI
 * differs from BL_CUDA_MODULE_ABI, then bl_cuda_module_probe(), whose baleen_version and
 * git_commit must equal the binary's (a module of another build is refused: its entry points
 * may not match). Raise BL_CUDA_MODULE_ABI whenever a struct below or an exported entry point
 * changes.
 *
 * Threading: the probe is reentrant.
 */
#ifndef BL_KERNELS_MODULE_ABI_H
#define BL_KERNELS_MODULE_ABI_H

#define BL_CUDA_MODULE_ABI 1
#define BL_CUDA_MAX_DEVICES 16

typedef struct {
    char name[256];
    int cc_major, cc_minor;          /* compute capability */
    unsigned long long memory_bytes; /* global memory */
    int multiprocessors;
    int pci_bus, pci_device;
} bl_cuda_device;

typedef struct {
    int abi;                 /* BL_CUDA_MODULE_ABI the module was built with */
    char baleen_version[32]; /* BL_VERSION and BL_GIT_COMMIT the module was built with */
    char git_commit[48];
    int runtime_version;     /* cudaRuntimeGetVersion: 13000 = 13.0 */
    int driver_version;      /* cudaDriverGetVersion: 0 = no driver installed */
    int cufft_version;       /* cufftGetVersion; 0 = unknown */
    int cudnn_version;       /* cudnnGetVersion; 0 = not loaded */
    int cublas_version;      /* cublasGetProperty major*10000 + minor*100 + patch; 0 = unknown */
    int n_devices;           /* devices that answered */
    bl_cuda_device devices[BL_CUDA_MAX_DEVICES];
    int error;               /* the cudaError_t of the device query; 0 = none */
    char error_name[64];     /* cudaGetErrorName */
    char error_text[256];    /* cudaGetErrorString */
} bl_cuda_probe_result;

/* Exported by the module (C linkage). */
#ifdef __cplusplus
extern "C" {
#endif
int bl_cuda_module_abi(void);
void bl_cuda_module_probe(bl_cuda_probe_result *out);
#ifdef __cplusplus
}
#endif

#endif
