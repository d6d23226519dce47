/* cpushare.c — other work's share of the CPUs and the model stage's thread count under
 * contention (cpushare.h). Owns nothing. Threading: see cpushare.h.
 */
#include "cpushare.h"

#include <dirent.h> /* opendir: this process's threads */
#include <stdio.h>
#include <string.h>

void bl_cpushare_init(bl_cpushare *s, int cpus) {
    memset(s, 0, sizeof *s);
    s->cpus = cpus > 0 ? cpus : 1;
}

void bl_cpushare_add(bl_cpushare *s, int running_machine, int running_own) {
    double o = running_machine - running_own;
    if (o < 0) o = 0; /* the two files are read a moment apart */
    s->others = s->n == 0 ? o : s->others + (o - s->others) / 8;
    s->n++;
}

/* Threads of this process in state R (running or runnable). */
static int own_running(void) {
    DIR *d = opendir("/proc/self/task");
    if (!d) return -1;
    int n = 0;
    struct dirent *e;
    char path[64], buf[256];
    while ((e = readdir(d)) != NULL) {
        if (e->d_name[0] == '.') continue;
        snprintf(path, sizeof path, "/proc/self/task/%.20s/stat", e->d_name);
        FILE *f = fopen(path, "re");
        if (!f) continue;
        size_t got = fread(buf, 1, sizeof buf - 1, f);
        fclose(f);
        buf[got] = '\0';
        const char *p = strrchr(buf, ')'); /* the name may hold spaces and parentheses */
        if (p && p[1] == ' ' && p[2] == 'R') n++;
    }
    closedir(d);
    return n;
}

bool bl_cpushare_read(bl_cpushare *s) {
    FILE *f = fopen("/proc/loadavg", "re");
    if (!f) return false;
    double l1, l5, l15;
    int running = 0, total = 0;
    int k = fscanf(f, "%lf %lf %lf %d/%d", &l1, &l5, &l15, &running, &total);
    fclose(f);
    int own = own_running();
    if (k != 5 || own < 0) return false;
    bl_cpushare_add(s, running, own);
    return true;
}

bool bl_cpushare_contended(const bl_cpushare *s, int threads) {
    return s->n >= 3 && threads > 1 && (double)s->cpus - s->others < threads - 0.5;
}

int bl_cpushare_fewer(const bl_cpushare *s, int threads) {
    if (!bl_cpushare_contended(s, threads)) return 0;
    int t = (int)(s->cpus - s->others + 0.5);
    return t < 1 ? 1 : t >= threads ? threads - 1 : t;
}

void bl_thread_fit_init(bl_thread_fit *f, int max_threads) {
    memset(f, 0, sizeof *f);
    f->max = f->cur = max_threads > 0 ? max_threads : 1;
}

static void set_cur(bl_thread_fit *f, int t) {
    if (t != f->cur) f->skip = 1; /* the first batch after a change rebuilds primitives */
    f->cur = t;
}

int bl_thread_fit_next(bl_thread_fit *f, int fewer, int64_t now_ns) {
    if (f->max <= 1) return f->cur;
    if (fewer <= 0 || fewer >= f->max) {
        f->was_contended = false;
        f->phase = 0;
        f->decided_ns = 0;
        set_cur(f, f->max);
        return f->cur;
    }
    bool due = f->decided_ns == 0 || (double)(now_ns - f->decided_ns) * 1e-9 >= BL_FIT_RETRY_S;
    if (f->phase == 0 && (!f->was_contended || due)) {
        f->phase = 1; /* the smaller team first: it is the likely winner */
        f->alt = fewer;
        f->n_max = f->n_one = 0;
        f->s_max = f->s_one = 0;
        set_cur(f, f->alt);
    }
    f->was_contended = true;
    if (f->cur < f->max) f->n_reduced++;
    return f->cur;
}

static void decide(bl_thread_fit *f, int64_t now_ns) {
    f->last_max_s = f->n_max ? f->s_max / f->n_max : 0;
    f->last_one_s = f->s_one / f->n_one;
    /* the team keeps its place only when clearly faster: its times under contention swing
     * with every time slice its members lose, the smaller team's less */
    set_cur(f, f->n_max && f->last_max_s < BL_FIT_KEEP * f->last_one_s ? f->max : f->alt);
    f->skip = 0; /* the decision is not timed */
    f->phase = 0;
    f->decided_ns = now_ns > 0 ? now_ns : 1;
    f->n_trials++;
}

bool bl_thread_fit_record(bl_thread_fit *f, double seconds, int64_t now_ns) {
    if (f->phase == 0) return false;
    if (f->skip > 0) {
        f->skip--;
        return false;
    }
    if (f->phase == 1) {
        f->s_one += seconds;
        if (++f->n_one >= BL_FIT_TRIAL && f->s_one >= BL_FIT_MIN_S) {
            f->phase = 2;
            set_cur(f, f->max);
        }
        return false;
    }
    f->s_max += seconds;
    f->n_max++;
    /* the team's phase ends early once it cannot win: its mean already above the smaller
     * team's (three batches: one unlucky batch does not decide) */
    bool losing = f->n_max >= 3 && f->s_max / f->n_max > f->s_one / f->n_one;
    if (!losing && (f->n_max < BL_FIT_TRIAL || f->s_max < BL_FIT_MIN_S)) return false;
    decide(f, now_ns);
    return true;
}
