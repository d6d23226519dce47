/* module.c — host code of the CUDA backend module (libbaleen_cuda.so): the handshake and the
 * device probe of kernels/module_abi.h. Plain C11 against NVIDIA's C headers; the kernels
 * (*.cu) are in the same module behind their own C entry points.
 *
 * Owns nothing between calls. Threading: reentrant (the CUDA runtime is thread-safe).
 */
#include "module_abi.h"

#include <cublas_v2.h>        /* cublasGetProperty: the library's version */
#include <cuda_runtime_api.h> /* device count and properties, versions, error names */
#include <cudnn.h>            /* cudnnGetVersion */
#include <cufft.h>            /* cufftGetVersion */
#include <stdio.h>            /* snprintf */
#include <string.h>           /* memset */

#include "bl_version.h" /* BL_VERSION, BL_GIT_COMMIT of this build */

int bl_cuda_module_abi(void) { return BL_CUDA_MODULE_ABI; }

void bl_cuda_module_probe(bl_cuda_probe_result *out) {
    memset(out, 0, sizeof *out);
    out->abi = BL_CUDA_MODULE_ABI;
    snprintf(out->baleen_version, sizeof out->baleen_version, "%s", BL_VERSION);
    snprintf(out->git_commit, sizeof out->git_commit, "%s", BL_GIT_COMMIT);
    cudaRuntimeGetVersion(&out->runtime_version);
    cudaDriverGetVersion(&out->driver_version);
    int v = 0;
    if (cufftGetVersion(&v) == CUFFT_SUCCESS) out->cufft_version = v;
    out->cudnn_version = (int)cudnnGetVersion();
    int ma = 0, mi = 0, pa = 0;
    if (cublasGetProperty(MAJOR_VERSION, &ma) == CUBLAS_STATUS_SUCCESS &&
        cublasGetProperty(MINOR_VERSION, &mi) == CUBLAS_STATUS_SUCCESS &&
        cublasGetProperty(PATCH_LEVEL, &pa) == CUBLAS_STATUS_SUCCESS)
        out->cublas_version = ma * 10000 + mi * 100 + pa;
    int n = 0;
    cudaError_t e = cudaGetDeviceCount(&n);
    if (e != cudaSuccess) {
        out->error = (int)e;
        snprintf(out->error_name, sizeof out->error_name, "%s", cudaGetErrorName(e));
        snprintf(out->error_text, sizeof out->error_text, "%s", cudaGetErrorString(e));
        return;
    }
    for (int d = 0; d < n && out->n_devices < BL_CUDA_MAX_DEVICES; d++) {
        struct cudaDeviceProp p;
        if (cudaGetDeviceProperties(&p, d) != cudaSuccess) continue;
        bl_cuda_device *dv = &out->devices[out->n_devices++];
        snprintf(dv->name, sizeof dv->name, "%s", p.name);
        dv->cc_major = p.major;
        dv->cc_minor = p.minor;
        dv->memory_bytes = (unsigned long long)p.totalGlobalMem;
        dv->multiprocessors = p.multiProcessorCount;
        dv->pci_bus = p.pciBusID;
        dv->pci_device = p.pciDeviceID;
    }
}
