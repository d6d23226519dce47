/* sysinfo.c — CPUs, memory limit and resident memory of this process (see sysinfo.h).
 * Owns nothing. Threading: reentrant.
 */
#include "sysinfo.h"

#include <sched.h>        /* sched_getaffinity, CPU_COUNT */
#include <stdio.h>        /* fopen, snprintf, sscanf */
#include <stdlib.h>       /* strtoll */
#include <string.h>       /* strncmp, strchr */
#include <sys/resource.h> /* getrlimit(RLIMIT_AS) */

/* The first line of a small file into buf; false when unreadable. */
static int read_line(const char *path, char *buf, size_t cap) {
    FILE *f = fopen(path, "re");
    if (!f) return 0;
    int ok = fgets(buf, (int)cap, f) != NULL;
    fclose(f);
    if (ok) buf[strcspn(buf, "\n")] = '\0';
    return ok;
}

/* The cgroup path of this process for a v1 controller (e.g. "memory", "cpu,cpuacct") or v2
 * (controller NULL: the "0::" line), from /proc/self/cgroup. */
static int cgroup_path(const char *controller, char *out, size_t cap) {
    FILE *f = fopen("/proc/self/cgroup", "re");
    if (!f) return 0;
    char line[1024];
    int found = 0;
    while (!found && fgets(line, sizeof line, f)) {
        line[strcspn(line, "\n")] = '\0';
        char *c1 = strchr(line, ':'), *c2 = c1 ? strchr(c1 + 1, ':') : NULL;
        if (!c2) continue;
        *c2 = '\0';
        const char *ctrls = c1 + 1, *path = c2 + 1;
        if (!controller) found = !strcmp(line, "0") && ctrls[0] == '\0';
        else {
            /* the list may hold several controllers: "cpu,cpuacct" */
            size_t n = strlen(controller);
            for (const char *p = ctrls; *p && !found; p = strchr(p, ',') ? strchr(p, ',') + 1 : p + strlen(p))
                found = !strncmp(p, controller, n) && (p[n] == ',' || p[n] == '\0');
        }
        if (found) snprintf(out, cap, "%s", path);
    }
    fclose(f);
    return found;
}

/* Read `file` in `base`+`path` and each parent folder up to `base`; call fn on each value
 * found. Inside a cgroup namespace the path is "/" and base itself is the limit's folder. */
typedef void (*visit_fn)(const char *value, void *ctx);
static void walk_up(const char *base, const char *path, const char *file, visit_fn fn, void *ctx) {
    char p[1200], full[1400], val[128];
    snprintf(p, sizeof p, "%s", path);
    for (;;) {
        snprintf(full, sizeof full, "%s%s/%s", base, strcmp(p, "/") ? p : "", file);
        if (read_line(full, val, sizeof val)) fn(val, ctx);
        char *slash = strrchr(p, '/');
        if (!slash || slash == p) {
            if (strcmp(p, "/")) { /* the root itself */
                snprintf(full, sizeof full, "%s/%s", base, file);
                if (read_line(full, val, sizeof val)) fn(val, ctx);
            }
            break;
        }
        *slash = '\0';
    }
}

typedef struct {
    int64_t min;
} min_ctx;

static void take_min_bytes(const char *v, void *ctx) {
    min_ctx *m = ctx;
    if (!strcmp(v, "max")) return;
    char *end;
    long long x = strtoll(v, &end, 10);
    /* v1 writes "no limit" as a huge page-rounded number */
    if (end == v || x <= 0 || x >= (1LL << 60)) return;
    if (m->min == 0 || x < m->min) m->min = x;
}

typedef struct {
    double min; /* CPUs, 0 = none */
} cpu_ctx;

static void take_cpu_max(const char *v, void *ctx) { /* v2: "max 100000" or "200000 100000" */
    cpu_ctx *m = ctx;
    char q[32];
    long long period = 0;
    if (sscanf(v, "%31s %lld", q, &period) != 2 || !strcmp(q, "max") || period <= 0) return;
    double cpus = (double)strtoll(q, NULL, 10) / (double)period;
    if (cpus > 0 && (m->min == 0 || cpus < m->min)) m->min = cpus;
}

int bl_sys_usable_cpus(void) {
    int n = 0;
    cpu_set_t set;
    if (sched_getaffinity(0, sizeof set, &set) == 0) n = CPU_COUNT(&set);
    if (n <= 0) n = 1;
    cpu_ctx m = {0};
    char path[1024];
    if (cgroup_path(NULL, path, sizeof path)) walk_up("/sys/fs/cgroup", path, "cpu.max", take_cpu_max, &m);
    if (cgroup_path("cpu", path, sizeof path)) {
        char q[64], per[64], full[1200];
        const char *bases[] = {"/sys/fs/cgroup/cpu", "/sys/fs/cgroup/cpu,cpuacct"};
        for (int b = 0; b < 2; b++) {
            snprintf(full, sizeof full, "%s%s/cpu.cfs_quota_us", bases[b], strcmp(path, "/") ? path : "");
            if (!read_line(full, q, sizeof q)) continue;
            snprintf(full, sizeof full, "%s%s/cpu.cfs_period_us", bases[b], strcmp(path, "/") ? path : "");
            if (!read_line(full, per, sizeof per)) continue;
            long long qq = strtoll(q, NULL, 10), pp = strtoll(per, NULL, 10);
            if (qq > 0 && pp > 0) {
                double cpus = (double)qq / (double)pp;
                if (m.min == 0 || cpus < m.min) m.min = cpus;
            }
            break;
        }
    }
    if (m.min > 0) {
        int q = (int)m.min;
        if ((double)q < m.min) q++; /* 1.5 CPUs: 2 threads */
        if (q < n) n = q;
    }
    return n < 1 ? 1 : n;
}

static int64_t status_kb(const char *key) {
    FILE *f = fopen("/proc/self/status", "re");
    if (!f) return 0;
    char line[256];
    size_t kl = strlen(key);
    long long kb = 0;
    while (fgets(line, sizeof line, f))
        if (!strncmp(line, key, kl) && line[kl] == ':') {
            sscanf(line + kl + 1, "%lld", &kb);
            break;
        }
    fclose(f);
    return (int64_t)kb * 1024;
}

int64_t bl_sys_rss_bytes(void) { return status_kb("VmRSS"); }
int64_t bl_sys_peak_rss_bytes(void) { return status_kb("VmHWM"); }

int64_t bl_sys_memory_limit(char *how, size_t cap) {
    min_ctx v2 = {0}, v1 = {0};
    char path[1024];
    if (cgroup_path(NULL, path, sizeof path)) walk_up("/sys/fs/cgroup", path, "memory.max", take_min_bytes, &v2);
    if (cgroup_path("memory", path, sizeof path))
        walk_up("/sys/fs/cgroup/memory", path, "memory.limit_in_bytes", take_min_bytes, &v1);
    int64_t best = 0;
    const char *from = "";
    if (v2.min > 0) best = v2.min, from = "the cgroup's memory.max";
    if (v1.min > 0 && (best == 0 || v1.min < best)) best = v1.min, from = "the cgroup's memory.limit_in_bytes";
    struct rlimit rl;
    if (getrlimit(RLIMIT_AS, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY) {
        /* address space, not memory: what is left of it, plus the resident part that the
         * estimate counts again, less what threads reserve without using (glibc's 64 MiB
         * malloc arenas, stacks): 1 GiB */
        int64_t left = (int64_t)rl.rlim_cur - status_kb("VmSize") + bl_sys_rss_bytes() - ((int64_t)1 << 30);
        if (left < 0) left = 0;
        if (best == 0 || left < best) best = left, from = "the address-space limit (ulimit -v)";
    }
    /* what the machine can still give: MemAvailable, plus what this process already holds
     * (the estimate counts it) */
    FILE *f = fopen("/proc/meminfo", "re");
    long long kb = 0;
    if (f) {
        char line[256];
        while (fgets(line, sizeof line, f))
            if (sscanf(line, "MemAvailable: %lld kB", &kb) == 1) break;
        fclose(f);
    }
    int64_t avail = kb > 0 ? (int64_t)kb * 1024 + bl_sys_rss_bytes() : 0;
    if (avail > 0 && (best == 0 || avail < best)) best = avail, from = "the machine's available memory (MemAvailable)";
    if (how && cap) snprintf(how, cap, "%s", from);
    return best;
}
