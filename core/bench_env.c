/* bench_env.c — the machine `baleen bench` measured on (bench.h): CPU model, ISA, clock and
 * the peak estimate, load average and steal time (the busy-machine warning), memory limit,
 * library versions, baleen's version and commit.
 *
 * The CPU's peak: usable cores (at most the threads used) × fp32 lanes of the widest vector
 * unit (AVX-512 16, AVX2 8, else SSE 4) × FMA units per core × 2 FLOP per FMA × clock. The
 * FMA units per core cannot be read from the CPU: 2 is assumed where there is FMA (Intel
 * server and desktop cores since Haswell, AMD since Zen 2; some Xeon Silver/Bronze parts have
 * one AVX-512 unit, where the estimate is twice too high), 1 multiply + 1 add otherwise. The
 * clock is the highest the kernel reports (cpufreq's cpuinfo_max_freq), else the nominal
 * clock in the model name ("@ 2.10GHz"), else /proc/cpuinfo's "cpu MHz"; the report says
 * which. Turbo clocks above that make the peak an underestimate.
 *
 * Owns nothing. Threading: reentrant (each call reads the files anew).
 */
#include <sndfile.h> /* sf_version_string: library versions for the report */
#include <soxr.h>    /* soxr_version */
#include <stdio.h>
#include <stdlib.h>  /* getenv, strtod, getloadavg */
#include <string.h>
#include <time.h>    /* the report's date */
#include <yaml.h>    /* yaml_get_version_string */
#include <zstd.h>    /* ZSTD_versionString */
#include <dnnl.h>    /* dnnl_version: the executor's oneDNN */
#include <unistd.h>  /* sysconf */

#include "bench.h"
#include "bl_version.h" /* BL_VERSION, BL_GIT_COMMIT */
#include "cpu_isa.h"    /* bl_cpu_has_avx2, bl_cpu_has_avx512f */
#include "sysinfo.h"    /* bl_sys_usable_cpus, bl_sys_memory_limit */

/* The value of "key : value" in the first processor block of /proc/cpuinfo. */
static bool cpuinfo_value(const char *key, char *out, size_t cap) {
    FILE *f = fopen("/proc/cpuinfo", "re");
    if (!f) return false;
    char line[512];
    bool found = false;
    size_t kl = strlen(key);
    while (!found && fgets(line, sizeof line, f)) {
        if (strncmp(line, key, kl) || (line[kl] != ' ' && line[kl] != '\t' && line[kl] != ':')) continue;
        const char *c = strchr(line, ':');
        if (!c) continue;
        c++;
        while (*c == ' ') c++;
        snprintf(out, cap, "%s", c);
        out[strcspn(out, "\n")] = '\0';
        found = true;
    }
    fclose(f);
    return found;
}

static void clock_estimate(bl_bench_env *e) {
    char buf[256];
    FILE *f = fopen("/sys/devices/system/cpu/cpu0/cpufreq/cpuinfo_max_freq", "re");
    if (f) {
        long khz = 0;
        if (fscanf(f, "%ld", &khz) == 1 && khz > 0) {
            e->clock_ghz = (double)khz / 1e6;
            snprintf(e->clock_how, sizeof e->clock_how, "cpufreq cpuinfo_max_freq");
        }
        fclose(f);
        if (e->clock_ghz > 0) return;
    }
    const char *at = strstr(e->cpu_model, "@ ");
    double g = at ? strtod(at + 2, NULL) : 0;
    if (g > 0.2 && g < 10 && strstr(at, "GHz")) {
        e->clock_ghz = g;
        snprintf(e->clock_how, sizeof e->clock_how, "the nominal clock in the CPU's name");
        return;
    }
    if (cpuinfo_value("cpu MHz", buf, sizeof buf) && strtod(buf, NULL) > 100) {
        e->clock_ghz = strtod(buf, NULL) / 1000;
        snprintf(e->clock_how, sizeof e->clock_how, "/proc/cpuinfo 'cpu MHz' (the current clock)");
        return;
    }
    e->clock_ghz = 2.0;
    snprintf(e->clock_how, sizeof e->clock_how, "unknown, 2 GHz assumed");
}

static void load_average(bl_bench_env *e) {
    e->loadavg[0] = e->loadavg[1] = e->loadavg[2] = 0;
#ifdef BL_TEST_HOOKS /* test builds only: the busy-machine warning without a busy machine */
    const char *inj = getenv("BL_TEST_LOADAVG");
    if (inj && inj[0]) {
        int n = sscanf(inj, "%lf %lf %lf", &e->loadavg[0], &e->loadavg[1], &e->loadavg[2]);
        if (n >= 1) {
            if (n < 2) e->loadavg[1] = e->loadavg[0];
            if (n < 3) e->loadavg[2] = e->loadavg[1];
            e->load_injected = true;
            return;
        }
    }
#endif
    FILE *f = fopen("/proc/loadavg", "re");
    if (f) {
        if (fscanf(f, "%lf %lf %lf", &e->loadavg[0], &e->loadavg[1], &e->loadavg[2]) != 3)
            e->loadavg[0] = e->loadavg[1] = e->loadavg[2] = 0;
        fclose(f);
    }
}

bool bl_bench_cpu_ticks(uint64_t *steal, uint64_t *total) {
    FILE *f = fopen("/proc/stat", "re");
    if (!f) return false;
    unsigned long long v[10] = {0};
    int n = fscanf(f, "cpu %llu %llu %llu %llu %llu %llu %llu %llu %llu %llu", &v[0], &v[1], &v[2], &v[3], &v[4], &v[5],
                   &v[6], &v[7], &v[8], &v[9]);
    fclose(f);
    if (n < 4) return false;
    uint64_t t = 0;
    for (int i = 0; i < 8 && i < n; i++) t += v[i]; /* guest time is already in user */
    *steal = n >= 8 ? v[7] : 0;
    *total = t;
    return true;
}

bool bl_bench_busy_warning(const bl_bench_env *e, char *msg, size_t cap) {
    int cpus = e->cpus_usable > 0 ? e->cpus_usable : 1;
    if (e->loadavg[0] >= 0.5 * cpus) {
        snprintf(msg, cap,
                 "the machine is busy: 1-minute load average %.2f on %d usable CPU%s before the measurement%s; other "
                 "work competes for the cores, so the figures are low and noisy: measure on a quiet machine",
                 e->loadavg[0], cpus, cpus == 1 ? "" : "s", e->load_injected ? " (BL_TEST_LOADAVG)" : "");
        return true;
    }
    if (e->steal_share > 0.05) {
        snprintf(msg, cap,
                 "the hypervisor took %.0f%% of the CPUs' time during the measurement (steal time): other virtual "
                 "machines share this host, so the figures are low and noisy", 100 * e->steal_share);
        return true;
    }
    return false;
}

void bl_bench_env_collect(bl_bench_env *e, int threads) {
    memset(e, 0, sizeof *e);
    if (!cpuinfo_value("model name", e->cpu_model, sizeof e->cpu_model)) snprintf(e->cpu_model, sizeof e->cpu_model, "unknown CPU");
    e->cpus_usable = bl_sys_usable_cpus();
    long on = sysconf(_SC_NPROCESSORS_ONLN);
    e->cpus_online = on > 0 ? (int)on : e->cpus_usable;
    bool avx512 = bl_cpu_has_avx512f(), avx2 = bl_cpu_has_avx2(), fma = false;
#if (defined(__x86_64__) || defined(__i386__)) && defined(__GNUC__)
    __builtin_cpu_init();
    fma = __builtin_cpu_supports("fma") != 0;
#endif
    snprintf(e->isa, sizeof e->isa, "%s%s%s", avx512 ? "avx512f " : "", avx2 ? "avx2 " : "", fma ? "fma" : "");
    if (!e->isa[0]) snprintf(e->isa, sizeof e->isa, "baseline");
    size_t il = strlen(e->isa);
    if (il && e->isa[il - 1] == ' ') e->isa[il - 1] = '\0';
    e->lanes = avx512 ? 16 : avx2 ? 8 : 4;
    e->fma_units = fma ? 2 : 0;
    clock_estimate(e);
    int cores = threads < e->cpus_usable ? threads : e->cpus_usable;
    if (cores < 1) cores = 1;
    double per_cycle = fma ? (double)e->lanes * e->fma_units * 2 : (double)e->lanes * 2;
    e->peak_gflops = cores * per_cycle * e->clock_ghz;
    if (fma)
        snprintf(e->peak_how, sizeof e->peak_how,
                 "%d core%s x %d fp32 lanes (%s) x %d FMA units (assumed) x 2 FLOP x %.2f GHz (%s)", cores,
                 cores == 1 ? "" : "s", e->lanes, avx512 ? "AVX-512" : avx2 ? "AVX2" : "SSE", e->fma_units, e->clock_ghz,
                 e->clock_how);
    else
        snprintf(e->peak_how, sizeof e->peak_how, "%d core%s x %d fp32 lanes x (1 mul + 1 add) x %.2f GHz (%s)", cores,
                 cores == 1 ? "" : "s", e->lanes, e->clock_ghz, e->clock_how);
    load_average(e);
    e->memory_limit = bl_sys_memory_limit(NULL, 0);
    const dnnl_version_t *dv = dnnl_version();
    if (dv) snprintf(e->onednn, sizeof e->onednn, "%d.%d.%d", dv->major, dv->minor, dv->patch);
    snprintf(e->sndfile, sizeof e->sndfile, "%s", sf_version_string());
    snprintf(e->soxr, sizeof e->soxr, "%s", soxr_version());
    snprintf(e->zstd, sizeof e->zstd, "%s", ZSTD_versionString());
    snprintf(e->yaml, sizeof e->yaml, "%s", yaml_get_version_string());
    snprintf(e->libs, sizeof e->libs, "oneDNN %s, %s, %s, zstd %s, libyaml %s", e->onednn, e->sndfile, e->soxr, e->zstd,
             e->yaml);
    snprintf(e->version, sizeof e->version, "%s", BL_VERSION);
    snprintf(e->commit, sizeof e->commit, "%s", BL_GIT_COMMIT);
    time_t now = time(NULL);
    struct tm tm;
    gmtime_r(&now, &tm);
    strftime(e->date, sizeof e->date, "%Y-%m-%dT%H:%M:%SZ", &tm);
}
