/* cudamod.c — the CUDA backend module: search, dlopen, handshake, probe (see cudamod.h).
 * Owns: the process's one bl_cuda_info and the module handle (kept open for the process's
 * life). Threading: loaded once under pthread_once, read-only afterwards.
 */
#include "cudamod.h"

#include <dlfcn.h>   /* dlopen, dlsym, dlerror */
#include <limits.h>  /* PATH_MAX */
#include <pthread.h> /* pthread_once */
#include <stdarg.h>  /* fail(): the reason's format */
#include <stdio.h>   /* snprintf */
#include <stdlib.h>  /* getenv */
#include <string.h>  /* strcmp, strrchr */
#include <unistd.h>  /* readlink, access */

#include "bl_version.h" /* BL_VERSION, BL_GIT_COMMIT: the handshake */

#ifndef BL_INSTALL_LIBDIR /* set by CMake: <prefix>/lib/baleen */
#define BL_INSTALL_LIBDIR "/usr/local/lib/baleen"
#endif
#define BL_CUDA_MODULE_FILE "libbaleen_cuda.so"

static bl_cuda_info g_info; /* written once under g_once, read-only afterwards */
static pthread_once_t g_once = PTHREAD_ONCE_INIT;

void bl_cuda_version_text(int v, char kind, char *buf, size_t cap) {
    if (v <= 0) {
        snprintf(buf, cap, "none");
        return;
    }
    if (kind == 'r') snprintf(buf, cap, "%d.%d", v / 1000, (v % 1000) / 10);
    else if (kind == 'f') snprintf(buf, cap, "%d.%d.%d", v / 1000, (v % 1000) / 100, v % 100); /* CUFFT_VERSION */
    else snprintf(buf, cap, "%d.%d.%d", v / 10000, (v % 10000) / 100, v % 100);
}

/* The folder of the running executable, into buf (false when unknown). */
static bool exe_dir(char *buf, size_t cap) {
    char p[PATH_MAX];
    ssize_t n = readlink("/proc/self/exe", p, sizeof p - 1);
    if (n <= 0) return false;
    p[n] = '\0';
    char *slash = strrchr(p, '/');
    if (!slash) return false;
    *slash = '\0';
    snprintf(buf, cap, "%s", p);
    return true;
}

__attribute__((format(printf, 2, 3))) static void fail(bl_cuda_status st, const char *fmt, ...) {
    g_info.status = st;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(g_info.reason, sizeof g_info.reason, fmt, ap); /* a long path is cut, not the run */
    va_end(ap);
}

static void load(void) {
    /* where to look */
    char tried[3][PATH_MAX + 64];
    int n_tried = 0;
    const char *env = getenv("BL_CUDA_MODULE");
    char dir[PATH_MAX];
    if (env && *env) snprintf(tried[n_tried++], sizeof tried[0], "%.*s", PATH_MAX, env);
    else {
        if (exe_dir(dir, sizeof dir))
            snprintf(tried[n_tried++], sizeof tried[0], "%.*s/%s", PATH_MAX - 1, dir, BL_CUDA_MODULE_FILE);
        snprintf(tried[n_tried++], sizeof tried[0], "%s/%s", BL_INSTALL_LIBDIR, BL_CUDA_MODULE_FILE);
    }
    int found = -1;
    for (int i = 0; i < n_tried && found < 0; i++)
        if (access(tried[i], F_OK) == 0) found = i;
    if (found < 0) {
        snprintf(g_info.path, sizeof g_info.path, "%.4000s", tried[n_tried - 1]);
        if (env && *env) fail(BL_CUDA_NO_MODULE, "no CUDA module at %s (BL_CUDA_MODULE)", env);
        else
            fail(BL_CUDA_NO_MODULE, "no CUDA module: %s not found next to the baleen binary nor in %s (this "
                 "build has no CUDA backend, or it was not installed)", BL_CUDA_MODULE_FILE, BL_INSTALL_LIBDIR);
        return;
    }
    snprintf(g_info.path, sizeof g_info.path, "%.4000s", tried[found]);
    dlerror();
    void *h = dlopen(g_info.path, RTLD_NOW | RTLD_LOCAL);
    if (!h) {
        const char *e = dlerror();
        fail(BL_CUDA_LOAD_FAILED, "the CUDA module %s cannot be loaded: %s (are the CUDA runtime, cuFFT, cuBLAS "
             "and cuDNN libraries installed?)", g_info.path, e ? e : "unknown error");
        return;
    }
    int (*abi)(void) = NULL;
    void (*probe)(bl_cuda_probe_result *) = NULL;
    *(void **)&abi = dlsym(h, "bl_cuda_module_abi");
    *(void **)&probe = dlsym(h, "bl_cuda_module_probe");
    if (!abi || !probe) {
        fail(BL_CUDA_BAD_MODULE, "%s is not a baleen CUDA module (no bl_cuda_module_abi/probe)", g_info.path);
        dlclose(h);
        return;
    }
    int a = abi();
    if (a != BL_CUDA_MODULE_ABI) {
        char want[96];
        snprintf(want, sizeof want, "its ABI version is %d, this baleen needs %d", a, BL_CUDA_MODULE_ABI);
        fail(BL_CUDA_BAD_MODULE, "the CUDA module %s does not match this baleen: %s; use the module built with this "
             "binary", g_info.path, want);
        dlclose(h);
        return;
    }
    probe(&g_info.probe);
    if (strcmp(g_info.probe.baleen_version, BL_VERSION) || strcmp(g_info.probe.git_commit, BL_GIT_COMMIT)) {
        char what[256];
        snprintf(what, sizeof what, "it was built from baleen %.31s (commit %.47s), this binary is %s (commit %s)",
                 g_info.probe.baleen_version, g_info.probe.git_commit, BL_VERSION, BL_GIT_COMMIT);
        fail(BL_CUDA_BAD_MODULE, "the CUDA module %s does not match this baleen: %s; use the module built with this "
             "binary", g_info.path, what);
        dlclose(h);
        return;
    }
    g_info.probed = true; /* the handle stays open: the module's code is used from now on */
    const bl_cuda_probe_result *p = &g_info.probe;
    for (int d = 0; d < p->n_devices; d++)
        if (p->devices[d].cc_major > BL_CUDA_MIN_CC_MAJOR ||
            (p->devices[d].cc_major == BL_CUDA_MIN_CC_MAJOR && p->devices[d].cc_minor >= BL_CUDA_MIN_CC_MINOR))
            g_info.n_usable++;
    char err[400];
    snprintf(err, sizeof err, "%s: %s", p->error_name, p->error_text);
    if (p->driver_version == 0)
        fail(BL_CUDA_NO_DRIVER, "no NVIDIA driver (%s); install the driver to use the GPU", err);
    else if (p->error == 35 /* cudaErrorInsufficientDriver */)
        fail(BL_CUDA_NO_DRIVER, "the NVIDIA driver is too old for the CUDA runtime of this build (%s)", err);
    else if (p->n_devices == 0)
        fail(BL_CUDA_NO_DEVICE, "no CUDA device answers (%s)", p->error ? err : "none found");
    else if (g_info.n_usable == 0)
        fail(BL_CUDA_TOO_OLD, "every CUDA device is older than compute capability 7.5 (Turing), e.g. %s",
             p->devices[0].name);
    else {
        g_info.status = BL_CUDA_OK;
        g_info.reason[0] = '\0';
    }
}

const bl_cuda_info *bl_cuda_module_get(void) {
    pthread_once(&g_once, load);
    return &g_info;
}
