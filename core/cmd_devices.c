/* cmd_devices.c — `baleen devices`: the backends this binary can run on here and why not
 * when it cannot; per GPU its name, compute capability and memory; the driver, runtime,
 * cuFFT, cuDNN and cuBLAS versions (core/cudamod.h does the finding and probing).
 *
 * Owns nothing. Single-threaded. Exit codes: 0 (the listing is the answer, whatever it
 * says), 1 usage error.
 */
#include <stdio.h> /* the listing goes to stdout */

#include "bench.h"    /* bl_bench_env_collect: the CPU's model and instruction sets */
#include "cli_args.h" /* bl_cli_args_parse: the options */
#include "commands.h" /* bl_cmd_devices, bl_cli_error */
#include "cudamod.h"  /* bl_cuda_module_get */
#include "sysinfo.h"  /* bl_sys_usable_cpus */

static void print_help(FILE *f) {
    fprintf(f,
            "usage: baleen devices\n\n"
            "The backends baleen can run on here: the CPU (its model, usable CPUs and vector\n"
            "instructions) and CUDA — whether the CUDA module (libbaleen_cuda.so, next to the\n"
            "binary, in <prefix>/lib/baleen, or $BL_CUDA_MODULE) was found and accepted, the\n"
            "driver, runtime, cuFFT, cuDNN and cuBLAS versions, and per GPU its name, compute\n"
            "capability and memory. When CUDA cannot run, the one-line reason is the one\n"
            "`baleen run --backend auto` prints when it falls back to the CPU.\n\n"
            "options:\n"
            "  -h, --help   this help\n\n"
            "example:\n"
            "  baleen devices\n");
}

int bl_cmd_devices(int argc, char **argv) {
    bl_cli_args a;
    if (bl_cli_args_parse(NULL, 0, argc, argv, &a) != BL_OK)
        return bl_cli_usage("devices", "%s", bl_error_message());
    bool help = a.help;
    int n_pos = a.n_pos;
    const char *pos0 = n_pos > 0 ? a.pos[0] : NULL;
    bl_cli_args_free(&a);
    if (help) {
        print_help(stdout);
        return BL_EXIT_OK;
    }
    if (n_pos > 0) return bl_cli_usage("devices", "unexpected argument '%.160s'", pos0);

    bl_bench_env env;
    bl_bench_env_collect(&env, bl_sys_usable_cpus());
    printf("backends:\n");
    printf("  cpu   yes  %s, %d usable CPU%s, %s\n", env.cpu_model, bl_sys_usable_cpus(),
           bl_sys_usable_cpus() == 1 ? "" : "s", env.isa[0] ? env.isa : "no vector extensions found");
    const bl_cuda_info *ci = bl_cuda_module_get();
    if (ci->status == BL_CUDA_OK)
        printf("  cuda  yes  %d usable GPU%s (module %s); models still run on the CPU in this version: the "
               "device path and the CUDA executor come with the next issues\n",
               ci->n_usable, ci->n_usable == 1 ? "" : "s", ci->path);
    else
        printf("  cuda  no   %s\n", ci->reason);
    if (ci->probed) {
        const bl_cuda_probe_result *p = &ci->probe;
        char drv[32], rt[32], fft[32], dnn[32], blas[32];
        bl_cuda_version_text(p->driver_version, 'r', drv, sizeof drv);
        bl_cuda_version_text(p->runtime_version, 'r', rt, sizeof rt);
        bl_cuda_version_text(p->cufft_version, 'f', fft, sizeof fft);
        bl_cuda_version_text(p->cudnn_version, 'd', dnn, sizeof dnn);
        bl_cuda_version_text(p->cublas_version, 'b', blas, sizeof blas);
        printf("\ncuda module: %s (ABI %d, baleen %s, commit %s)\n", ci->path, p->abi, p->baleen_version,
               p->git_commit);
        printf("versions:    driver %s, runtime %s, cuFFT %s, cuDNN %s, cuBLAS %s\n", drv, rt, fft, dnn, blas);
        if (p->n_devices == 0) printf("GPUs:        none (%s)\n", p->error ? p->error_text : "no device found");
        for (int d = 0; d < p->n_devices; d++) {
            const bl_cuda_device *dv = &p->devices[d];
            bool ok = dv->cc_major > BL_CUDA_MIN_CC_MAJOR ||
                      (dv->cc_major == BL_CUDA_MIN_CC_MAJOR && dv->cc_minor >= BL_CUDA_MIN_CC_MINOR);
            printf("GPU %d:       %s, compute capability %d.%d, %.1f GiB, %d multiprocessors, PCI %02x:%02x%s\n", d,
                   dv->name, dv->cc_major, dv->cc_minor, (double)dv->memory_bytes / (1 << 30), dv->multiprocessors,
                   dv->pci_bus, dv->pci_device, ok ? "" : " (too old: compute capability 7.5 or newer is needed)");
        }
    }
    return BL_EXIT_OK;
}
