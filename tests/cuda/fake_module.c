/* fake_module.c — stand-ins for the CUDA backend module, to test the loader's refusals
 * (core/cudamod.c) without a GPU: built as three modules by tests/cmake/devices.cmake.
 *   BL_FAKE_ABI_MISMATCH   reports another ABI version
 *   BL_FAKE_OTHER_BUILD    the right ABI, another baleen version and commit
 *   BL_FAKE_NO_ENTRY       exports neither entry point
 * A test tool, never part of baleen.
 */
#include <stdio.h>
#include <string.h>

#include "kernels/module_abi.h"

#ifndef BL_FAKE_NO_ENTRY
int bl_cuda_module_abi(void) {
#ifdef BL_FAKE_ABI_MISMATCH
    return BL_CUDA_MODULE_ABI + 998;
#else
    return BL_CUDA_MODULE_ABI;
#endif
}

void bl_cuda_module_probe(bl_cuda_probe_result *out) {
    memset(out, 0, sizeof *out);
    out->abi = BL_CUDA_MODULE_ABI;
    snprintf(out->baleen_version, sizeof out->baleen_version, "0.0.0-other");
    snprintf(out->git_commit, sizeof out->git_commit, "0000000other");
}
#else
int bl_fake_nothing_here(void) { return 0; }
#endif
