/* sysinfo.h — what this process may use: CPUs (affinity and cgroup CPU quota), memory (the
 * cgroup limit when there is one, else the machine's), and its own resident memory now and
 * at its peak. Foundation layer: reads /proc and /sys/fs/cgroup, depends on nothing else.
 *
 * Defines: bl_sys_usable_cpus(), bl_sys_memory_limit(), bl_sys_rss_bytes(),
 * bl_sys_peak_rss_bytes().
 * Threading: reentrant (each call reads the files anew).
 */
#ifndef BL_SYSINFO_H
#define BL_SYSINFO_H

#include <stddef.h>
#include <stdint.h>

/* CPUs this process may run on: the affinity mask, lowered by a cgroup CPU quota (v2
 * cpu.max, v1 cpu.cfs_quota_us / cfs_period_us, rounded up). At least 1. This is what
 * runtime.threads: 0 means. */
int bl_sys_usable_cpus(void);
/* Memory this process may use, in bytes: the smallest of the cgroup memory limits on its
 * path (v2 memory.max, v1 memory.limit_in_bytes), RLIMIT_AS, and what the machine can still
 * give (MemAvailable plus this process's own resident memory). `how` (may be NULL) receives
 * where the figure comes from. 0 when nothing could be read. */
int64_t bl_sys_memory_limit(char *how, size_t cap);
/* Resident set size now (VmRSS) and at its peak (VmHWM), bytes; 0 when unknown. */
int64_t bl_sys_rss_bytes(void);
int64_t bl_sys_peak_rss_bytes(void);

#endif
