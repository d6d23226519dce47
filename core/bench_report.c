/* bench_report.c — what `baleen bench` writes (bench.h): the table on stdout, the JSON of
 * every figure with the environment (--json), and an SVG of the realtime factor against the
 * batch size per stage (--plot), drawn directly (no plotting dependency).
 *
 * JSON layout (docs/benchmarks.md): {"env": {...machine, libraries, baleen, model, audio,
 * options...}, "results": [{"batch", "realtime_factor", "windows_per_s", "gflops",
 * "peak_rss_mb", "stages": {stage: seconds}, ...}], "recommendation": null | {...},
 * "warnings": [...]}. A figure that was not measured is null.
 *
 * Owns nothing beyond a call. Threading: pure formatting of a report; any thread.
 */
#include <errno.h>  /* errno of a failed write */
#include <math.h>   /* log10, floor, ceil */
#include <stdio.h>
#include <stdlib.h> /* strtod */
#include <string.h>

#include "bench.h"
#include "io/json.h"   /* bl_strbuf and its JSON string/number writers */
#include "pipeline.h"  /* bl_run_stage_name */

static const char *mode_name(bl_bench_mode m) {
    static const char *const n[] = {"pipeline", "model", "frontend", "io"};
    return (unsigned)m <= BL_BENCH_IO ? n[m] : "?";
}

static double stage_total(const bl_bench_row *w) {
    double t = 0;
    for (int i = 0; i < BL_BENCH_STAGES; i++) t += w->stage_s[i] > 0 ? w->stage_s[i] : 0;
    return t;
}

static void fmt_ms(double s, char *buf, size_t cap) {
    if (s <= 0) snprintf(buf, cap, "-");
    else if (s < 0.01) snprintf(buf, cap, "%.3f ms", s * 1e3);
    else if (s < 1) snprintf(buf, cap, "%.1f ms", s * 1e3);
    else snprintf(buf, cap, "%.2f s", s);
}

static void fmt_rt(double x, char *buf, size_t cap) {
    if (x <= 0) snprintf(buf, cap, "-");
    else if (x < 10) snprintf(buf, cap, "%.2fx", x);
    else snprintf(buf, cap, "%.0fx", x);
}

/* ---- table ----------------------------------------------------------------------------------- */

void bl_bench_print_table(const bl_bench_report *r, FILE *f) {
    const bl_bench_opts *o = &r->opts;
    const bl_bench_env *e = &r->env;
    fprintf(f, "baleen bench: %s%s%s (%s), %s backend, %d thread%s, --only %s\n", r->model_name,
            r->model_version[0] ? " " : "", r->model_version, r->model_path, r->backend, o->threads,
            o->threads == 1 ? "" : "s", mode_name(o->mode));
    fprintf(f, "audio:   %s; %d timed run%s per row after %d warm-up (median; spread = (max - min) / median)\n",
            r->audio_desc, o->repeat, o->repeat == 1 ? "" : "s", o->warmup);
    fprintf(f, "machine: %s, %d usable of %d CPUs, %s; load average %.2f %.2f %.2f%s\n", e->cpu_model, e->cpus_usable,
            e->cpus_online, e->isa, e->loadavg[0], e->loadavg[1], e->loadavg[2], e->load_injected ? " (injected)" : "");
    fprintf(f, "peak:    %.1f GFLOP/s = %s\n", e->peak_gflops, e->peak_how);
    if (strcmp(r->backend, "cpu")) fprintf(f, "note:    emulated or non-CPU device: the figures only show that it runs\n");
    if (o->compete > 0)
        fprintf(f, "load:    %d busy loop%s competed for the CPUs during the measurement (--compete)\n", o->compete,
                o->compete == 1 ? "" : "s");
    if (r->flops_per_item > 0) fprintf(f, "model:   %.2f MFLOP per window\n", (double)r->flops_per_item / 1e6);
    fputc('\n', f);
    char a[32], b[32], c[32];
    if (o->mode == BL_BENCH_FRONTEND || o->mode == BL_BENCH_IO) {
        fprintf(f, "%-9s %10s %7s %11s %11s %10s\n", "stage", "realtime", "spread", "time/run", "audio", "peak RSS");
        for (int i = 0; i < r->n_rows; i++) {
            const bl_bench_row *w = &r->rows[i];
            if (w->failed) {
                fprintf(f, "%-9s failed: %s\n", mode_name(o->mode), w->msg);
                continue;
            }
            fmt_rt(w->realtime, a, sizeof a);
            fmt_ms(w->time_s, b, sizeof b);
            fprintf(f, "%-9s %10s %6.1f%% %11s %9.1f s %6.1f MiB\n", o->mode == BL_BENCH_IO ? "io" : "frontend", a,
                    100 * w->spread, b, w->audio_s, w->peak_rss_mb);
        }
    } else {
        bool pipe = o->mode == BL_BENCH_PIPELINE;
        fprintf(f, "%5s %9s %7s %10s", "batch", "realtime", "spread", "windows/s");
        if (pipe)
            for (int st = 0; st < BL_BENCH_STAGES; st++) fprintf(f, " %*s", st == 3 ? 11 : 8, bl_run_stage_name(st));
        fprintf(f, " %8s %7s %10s %10s %10s\n", "GFLOP/s", "of peak", "batch p50", "batch p95", "peak RSS");
        for (int i = 0; i < r->n_rows; i++) {
            const bl_bench_row *w = &r->rows[i];
            if (w->failed) {
                fprintf(f, "%5d failed: %s\n", w->batch, w->msg);
                continue;
            }
            fmt_rt(w->realtime, a, sizeof a);
            fprintf(f, "%5d %9s %6.1f%% %10.0f", w->batch, a, 100 * w->spread, w->windows_per_s);
            double tot = stage_total(w);
            if (pipe)
                for (int st = 0; st < BL_BENCH_STAGES; st++)
                    fprintf(f, " %*.0f%%", st == 3 ? 10 : 7, tot > 0 && w->stage_s[st] > 0 ? 100 * w->stage_s[st] / tot : 0);
            fmt_ms(w->lat_p50_s, b, sizeof b);
            fmt_ms(w->lat_p95_s, c, sizeof c);
            fprintf(f, " %8.1f %6.1f%% %10s %10s %6.1f MiB\n", w->gflops,
                    e->peak_gflops > 0 ? 100 * w->gflops / e->peak_gflops : 0, b, c, w->peak_rss_mb);
        }
        if (pipe) {
            /* the stage with the largest share, where all rows agree */
            int top = -1;
            bool same = true;
            double lo = 1, hi = 0;
            for (int i = 0; i < r->n_rows; i++) {
                const bl_bench_row *w = &r->rows[i];
                if (w->failed) continue;
                int k = 0;
                for (int st = 1; st < BL_BENCH_STAGES; st++)
                    if (w->stage_s[st] > w->stage_s[k]) k = st;
                double share = stage_total(w) > 0 ? w->stage_s[k] / stage_total(w) : 0;
                if (top >= 0 && k != top) same = false;
                top = k;
                lo = share < lo ? share : lo;
                hi = share > hi ? share : hi;
            }
            for (int i = 0; i < r->n_rows; i++)
                if (!r->rows[i].failed && r->rows[i].fewer_threads > 0)
                    fprintf(f, "%sbatch %d: %.0f%% of the batches ran on fewer threads (the CPUs were shared with other "
                               "work and that measured faster)\n", i ? "" : "\n", r->rows[i].batch,
                            100 * r->rows[i].fewer_threads);
            double setup = 0;
            int n = 0;
            for (int i = 0; i < r->n_rows; i++)
                if (!r->rows[i].failed) setup += r->rows[i].setup_s, n++;
            fprintf(f, "\nrealtime = audio seconds / streaming time (set-up, %.3f s per run on average, not counted); "
                       "stage columns: share of the stages' busy time\n", n ? setup / n : 0);
            static const char *const alone[BL_BENCH_STAGES] = {
                "time it alone: baleen bench --only io", "time it alone: baleen bench --only frontend",
                "time it alone: baleen bench --only model",
                "pooling, events and the compressed chunks (no --only mode isolates it; longer audio amortises "
                "the per-file costs)"};
            if (top >= 0 && same) {
                fprintf(f, "bottleneck: %s (%.0f-%.0f%% of the busy time at every batch size); %s\n",
                        bl_run_stage_name(top), 100 * lo, 100 * hi, alone[top]);
            } else if (top >= 0) {
                fprintf(f, "bottleneck (largest share of the busy time):");
                for (int i = 0; i < r->n_rows; i++) {
                    const bl_bench_row *w = &r->rows[i];
                    if (w->failed) continue;
                    int k = 0;
                    for (int st = 1; st < BL_BENCH_STAGES; st++)
                        if (w->stage_s[st] > w->stage_s[k]) k = st;
                    fprintf(f, " batch %d: %s;", w->batch, bl_run_stage_name(k));
                }
                fprintf(f, " time a stage alone with --only io|frontend|model\n");
            }
        }
    }
    if (r->opts.batch_auto) fprintf(f, "\nrecommended batch size: %d\n%s\n", r->recommended, r->why);
    for (int i = 0; i < r->n_warnings; i++) fprintf(f, "%swarning: %s\n", i == 0 ? "\n" : "", r->warnings[i]);
}

/* ---- JSON -------------------------------------------------------------------------------------- */

static void jkey(bl_strbuf *b, const char *k, bool *first) {
    bl_strbuf_puts(b, *first ? "" : ", ");
    *first = false;
    bl_strbuf_json_string(b, k);
    bl_strbuf_puts(b, ": ");
}

static void jstr(bl_strbuf *b, const char *k, const char *v, bool *first) {
    jkey(b, k, first);
    if (v) bl_strbuf_json_string(b, v);
    else bl_strbuf_puts(b, "null");
}

/* Measured figures keep 6 significant digits (the noise is far above that). */
static double sig6(double v) {
    char t[40];
    snprintf(t, sizeof t, "%.6g", v);
    return strtod(t, NULL);
}

static void jnum(bl_strbuf *b, const char *k, double v, bool *first) {
    jkey(b, k, first);
    bl_strbuf_json_number(b, sig6(v));
}

/* A figure that is only known when positive. */
static void jpos(bl_strbuf *b, const char *k, double v, bool *first) {
    jkey(b, k, first);
    if (v > 0) bl_strbuf_json_number(b, sig6(v));
    else bl_strbuf_puts(b, "null");
}

static void json_env(bl_strbuf *b, const bl_bench_report *r) {
    const bl_bench_env *e = &r->env;
    const bl_bench_opts *o = &r->opts;
    bool f = true;
    bl_strbuf_puts(b, "{");
    jstr(b, "date", e->date, &f);
    jstr(b, "cpu_model", e->cpu_model, &f);
    jnum(b, "cpus_usable", e->cpus_usable, &f);
    jnum(b, "cpus_online", e->cpus_online, &f);
    jstr(b, "isa", e->isa, &f);
    jnum(b, "cpu_peak_gflops", e->peak_gflops, &f);
    jstr(b, "cpu_peak_how", e->peak_how, &f);
    jnum(b, "cpu_clock_ghz", e->clock_ghz, &f);
    jstr(b, "cpu_clock_how", e->clock_how, &f);
    jkey(b, "gpu", &f);
    bl_strbuf_puts(b, "null");
    jkey(b, "loadavg", &f);
    bl_strbuf_printf(b, "[%.2f, %.2f, %.2f]", e->loadavg[0], e->loadavg[1], e->loadavg[2]);
    jkey(b, "loadavg_injected", &f);
    bl_strbuf_puts(b, e->load_injected ? "true" : "false");
    jnum(b, "steal_share", e->steal_share, &f);
    jnum(b, "memory_limit_bytes", (double)e->memory_limit, &f);
    jkey(b, "libraries", &f);
    {
        bool g = true;
        bl_strbuf_puts(b, "{");
        jstr(b, "onednn", e->onednn, &g);
        jstr(b, "libsndfile", e->sndfile, &g);
        jstr(b, "soxr", e->soxr, &g);
        jstr(b, "zstd", e->zstd, &g);
        jstr(b, "libyaml", e->yaml, &g);
        bl_strbuf_puts(b, "}");
    }
    jstr(b, "baleen_version", e->version, &f);
    jstr(b, "baleen_commit", e->commit, &f);
    jstr(b, "command_line", o->command_line, &f);
    jstr(b, "backend", r->backend, &f);
    jnum(b, "threads", o->threads, &f);
    jkey(b, "threads_auto", &f);
    bl_strbuf_puts(b, o->threads_auto ? "true" : "false");
    jstr(b, "only", mode_name(o->mode), &f);
    jnum(b, "repeat", o->repeat, &f);
    jnum(b, "warmup", o->warmup, &f);
    jnum(b, "compete", o->compete, &f);
    jstr(b, "model", r->model_path, &f);
    jstr(b, "model_name", r->model_name, &f);
    jstr(b, "model_version", r->model_version[0] ? r->model_version : NULL, &f);
    jstr(b, "model_sha256", r->model_sha256, &f);
    jnum(b, "model_flops_per_window", (double)r->flops_per_item, &f);
    jstr(b, "audio", r->audio_desc, &f);
    jstr(b, "audio_input", o->input, &f);
    jnum(b, "audio_rate", r->rate, &f);
    jnum(b, "audio_channels", r->channels, &f);
    jkey(b, "figures_meaningful", &f);
    bl_strbuf_puts(b, strcmp(r->backend, "cpu") ? "false" : "true");
    bl_strbuf_puts(b, "}");
}

static void json_row(bl_strbuf *b, const bl_bench_report *r, const bl_bench_row *w) {
    bool f = true;
    bl_strbuf_puts(b, "{");
    jkey(b, "batch", &f);
    if (w->batch > 0) bl_strbuf_printf(b, "%d", w->batch);
    else bl_strbuf_puts(b, "null");
    jkey(b, "failed", &f);
    bl_strbuf_puts(b, w->failed ? "true" : "false");
    if (w->failed) jstr(b, "error", w->msg, &f);
    jpos(b, "realtime_factor", w->failed ? 0 : w->realtime, &f);
    jpos(b, "windows_per_s", w->failed ? 0 : w->windows_per_s, &f);
    jpos(b, "gflops", w->failed ? 0 : w->gflops, &f);
    jpos(b, "gflops_share_of_peak", w->failed || r->env.peak_gflops <= 0 ? 0 : w->gflops / r->env.peak_gflops, &f);
    jpos(b, "peak_rss_mb", w->peak_rss_mb, &f);
    jkey(b, "stages", &f);
    {
        bool g = true;
        bl_strbuf_puts(b, "{");
        for (int st = 0; st < BL_BENCH_STAGES && !w->failed; st++)
            if (w->stage_s[st] >= 0) jnum(b, bl_run_stage_name(st), w->stage_s[st], &g);
        bl_strbuf_puts(b, "}");
    }
    jnum(b, "runs", w->n_runs, &f);
    jpos(b, "audio_s", w->audio_s, &f);
    jpos(b, "windows", w->windows, &f);
    jpos(b, "time_s", w->time_s, &f);
    jpos(b, "time_min_s", w->time_min_s, &f);
    jpos(b, "time_max_s", w->time_max_s, &f);
    jnum(b, "spread", w->spread, &f);
    jpos(b, "setup_s", w->setup_s, &f);
    jpos(b, "windows_per_s_min", w->windows_per_s_min, &f);
    jpos(b, "windows_per_s_max", w->windows_per_s_max, &f);
    jpos(b, "latency_p50_ms", w->lat_p50_s * 1e3, &f);
    jpos(b, "latency_p95_ms", w->lat_p95_s * 1e3, &f);
    jnum(b, "latency_batches", (double)w->n_lat, &f);
    jnum(b, "batches_on_fewer_threads", w->fewer_threads, &f);
    bl_strbuf_puts(b, "}");
}

bl_status bl_bench_write_json(const bl_bench_report *r, const char *path) {
    bl_strbuf b = {0};
    bl_strbuf_puts(&b, "{\n  \"env\": ");
    json_env(&b, r);
    bl_strbuf_puts(&b, ",\n  \"results\": [");
    for (int i = 0; i < r->n_rows; i++) {
        bl_strbuf_puts(&b, i ? ",\n    " : "\n    ");
        json_row(&b, r, &r->rows[i]);
    }
    bl_strbuf_puts(&b, "\n  ],\n  \"recommendation\": ");
    if (r->opts.batch_auto && r->recommended > 0) {
        bl_strbuf_printf(&b, "{\"batch\": %d, \"why\": ", r->recommended);
        bl_strbuf_json_string(&b, r->why);
        bl_strbuf_puts(&b, "}");
    } else {
        bl_strbuf_puts(&b, "null");
    }
    bl_strbuf_puts(&b, ",\n  \"warnings\": [");
    for (int i = 0; i < r->n_warnings; i++) {
        bl_strbuf_puts(&b, i ? ", " : "");
        bl_strbuf_json_string(&b, r->warnings[i]);
    }
    bl_strbuf_puts(&b, "]\n}\n");
    bl_status s = BL_OK;
    if (b.oom) s = BL_ERROR(BL_ERR_NOMEM, "out of memory for the JSON report");
    FILE *f = s == BL_OK ? fopen(path, "we") : NULL;
    if (s == BL_OK && !f) s = BL_ERROR(BL_ERR_IO, "cannot write %s: %s", path, strerror(errno));
    if (f) {
        bool ok = fwrite(b.data, 1, b.len, f) == b.len;
        ok = fclose(f) == 0 && ok;
        if (!ok) s = BL_ERROR(BL_ERR_IO, "cannot write %s: %s", path, strerror(errno));
    }
    bl_strbuf_free(&b);
    return s;
}

/* ---- SVG ---------------------------------------------------------------------------------------- */

/* Text for SVG: the five XML characters escaped; control characters dropped. */
static void svg_text(bl_strbuf *b, const char *s) {
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        switch (*p) {
        case '&': bl_strbuf_puts(b, "&amp;"); break;
        case '<': bl_strbuf_puts(b, "&lt;"); break;
        case '>': bl_strbuf_puts(b, "&gt;"); break;
        case '"': bl_strbuf_puts(b, "&quot;"); break;
        case '\'': bl_strbuf_puts(b, "&apos;"); break;
        default:
            if (*p >= 0x20 && *p != 0x7f) bl_strbuf_append(b, p, 1);
        }
    }
}

#define SVG_W 760
#define SVG_H 460
#define SVG_L 80  /* plot area */
#define SVG_R 600
#define SVG_T 50
#define SVG_B 400

/* The value plotted for series k of row w: 0 = end to end, 1.. = stage k-1 alone. */
static double series_value(const bl_bench_report *r, const bl_bench_row *w, int k) {
    if (w->failed) return 0;
    if (!r->has_card) return k == 0 ? w->windows_per_s : 0; /* no audio geometry: windows/s */
    if (k == 0) return w->realtime;
    double s = w->stage_s[k - 1];
    return s > 0 && w->audio_s > 0 ? w->audio_s / s : 0;
}

bl_status bl_bench_write_svg(const bl_bench_report *r, const char *path) {
    static const char *const colours[1 + BL_BENCH_STAGES] = {"#111111", "#1f77b4", "#2ca02c", "#d62728", "#9467bd"};
    bl_strbuf b = {0};
    double ymin = 0, ymax = 0;
    int xmin = 0, xmax = 0;
    for (int i = 0; i < r->n_rows; i++) {
        const bl_bench_row *w = &r->rows[i];
        int x = w->batch > 0 ? w->batch : 1;
        if (!xmin || x < xmin) xmin = x;
        if (x > xmax) xmax = x;
        for (int k = 0; k <= BL_BENCH_STAGES; k++) {
            double v = series_value(r, w, k);
            if (v <= 0) continue;
            if (ymin == 0 || v < ymin) ymin = v;
            if (v > ymax) ymax = v;
        }
    }
    if (ymin <= 0) ymin = 1, ymax = 10;
    double ylo = floor(log10(ymin)), yhi = ceil(log10(ymax));
    if (yhi <= ylo) yhi = ylo + 1;
    double xlo = log2(xmin ? xmin : 1), xhi = log2(xmax ? xmax : 1);
    if (xhi <= xlo) xlo -= 1, xhi += 1;
#define PX(x) (SVG_L + (SVG_R - SVG_L) * (log2(x) - xlo) / (xhi - xlo))
#define PY(y) (SVG_B - (SVG_B - SVG_T) * (log10(y) - ylo) / (yhi - ylo))
    bl_strbuf_printf(&b,
                     "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
                     "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" height=\"%d\" viewBox=\"0 0 %d %d\" "
                     "font-family=\"sans-serif\" font-size=\"12\">\n"
                     "<rect x=\"0\" y=\"0\" width=\"%d\" height=\"%d\" fill=\"white\"/>\n",
                     SVG_W, SVG_H, SVG_W, SVG_H, SVG_W, SVG_H);
    bl_strbuf_puts(&b, "<text x=\"20\" y=\"28\" font-size=\"15\">baleen bench: ");
    svg_text(&b, r->model_name);
    bl_strbuf_printf(&b, " (%s, %d thread%s, --only %s)", r->backend, r->opts.threads, r->opts.threads == 1 ? "" : "s",
                     mode_name(r->opts.mode));
    bl_strbuf_puts(&b, "</text>\n");
    /* grid and axes */
    for (double d = ylo; d <= yhi + 1e-9; d++) {
        double y = SVG_B - (SVG_B - SVG_T) * (d - ylo) / (yhi - ylo);
        bl_strbuf_printf(&b, "<line x1=\"%d\" y1=\"%.1f\" x2=\"%d\" y2=\"%.1f\" stroke=\"#dddddd\"/>\n", SVG_L, y, SVG_R, y);
        bl_strbuf_printf(&b, "<text x=\"%d\" y=\"%.1f\" text-anchor=\"end\">%g%s</text>\n", SVG_L - 6, y + 4, pow(10, d),
                         r->has_card ? "x" : "");
    }
    for (int i = 0; i < r->n_rows; i++) {
        int x = r->rows[i].batch > 0 ? r->rows[i].batch : 1;
        double px = PX(x);
        bl_strbuf_printf(&b, "<line x1=\"%.1f\" y1=\"%d\" x2=\"%.1f\" y2=\"%d\" stroke=\"#eeeeee\"/>\n", px, SVG_T, px, SVG_B);
        if (r->rows[i].batch > 0)
            bl_strbuf_printf(&b, "<text x=\"%.1f\" y=\"%d\" text-anchor=\"middle\">%d</text>\n", px, SVG_B + 16, x);
    }
    bl_strbuf_printf(&b, "<rect x=\"%d\" y=\"%d\" width=\"%d\" height=\"%d\" fill=\"none\" stroke=\"black\"/>\n", SVG_L, SVG_T,
                     SVG_R - SVG_L, SVG_B - SVG_T);
    bl_strbuf_printf(&b, "<text x=\"%d\" y=\"%d\" text-anchor=\"middle\">batch size (windows per model call)</text>\n",
                     (SVG_L + SVG_R) / 2, SVG_B + 36);
    bl_strbuf_printf(&b,
                     "<text x=\"20\" y=\"%d\" text-anchor=\"middle\" transform=\"rotate(-90 20 %d)\">%s</text>\n",
                     (SVG_T + SVG_B) / 2, (SVG_T + SVG_B) / 2,
                     r->has_card ? "realtime factor (audio seconds per second)" : "windows per second");
    /* series */
    int ly = SVG_T + 10;
    for (int k = 0; k <= BL_BENCH_STAGES; k++) {
        int n = 0;
        bl_strbuf pts = {0};
        for (int i = 0; i < r->n_rows; i++) {
            const bl_bench_row *w = &r->rows[i];
            double v = series_value(r, w, k);
            if (v <= 0) continue;
            int x = w->batch > 0 ? w->batch : 1;
            bl_strbuf_printf(&pts, "%s%.1f,%.1f", n ? " " : "", PX(x), PY(v));
            bl_strbuf_printf(&b, "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"3.5\" fill=\"%s\"><title>", PX(x), PY(v), colours[k]);
            bl_strbuf_printf(&b, "%s, batch %d: %.1f</title></circle>\n", k == 0 ? "end to end" : bl_run_stage_name(k - 1),
                             w->batch, v);
            n++;
        }
        if (n > 1)
            bl_strbuf_printf(&b, "<polyline points=\"%s\" fill=\"none\" stroke=\"%s\" stroke-width=\"%s\"/>\n", pts.data,
                             colours[k], k == 0 ? "2.5" : "1.5");
        if (pts.oom) b.oom = true;
        bl_strbuf_free(&pts);
        if (n == 0) continue;
        const char *label = k == 0 ? (r->opts.mode == BL_BENCH_PIPELINE ? "end to end" : mode_name(r->opts.mode))
                                   : bl_run_stage_name(k - 1);
        bl_strbuf_printf(&b, "<line x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%d\" stroke=\"%s\" stroke-width=\"2.5\"/>\n",
                         SVG_R + 16, ly, SVG_R + 40, ly, colours[k]);
        bl_strbuf_printf(&b, "<text x=\"%d\" y=\"%d\">", SVG_R + 46, ly + 4);
        svg_text(&b, label);
        bl_strbuf_printf(&b, "%s</text>\n", k > 0 && r->opts.mode == BL_BENCH_PIPELINE ? " alone*" : "");
        ly += 20;
    }
    if (r->opts.mode == BL_BENCH_PIPELINE)
        bl_strbuf_printf(&b,
                         "<text x=\"20\" y=\"%d\" font-size=\"11\">* a stage's realtime factor is the audio over its "
                         "busy time inside the pipeline: what the scan would reach if that stage were the only "
                         "work.</text>\n", SVG_H - 14);
    if (strcmp(r->backend, "cpu"))
        bl_strbuf_printf(&b, "<text x=\"20\" y=\"%d\" font-size=\"11\">emulated or non-CPU device: the figures "
                             "only show that it runs.</text>\n", SVG_H - 28);
    bl_strbuf_puts(&b, "</svg>\n");
#undef PX
#undef PY
    bl_status s = BL_OK;
    if (b.oom) s = BL_ERROR(BL_ERR_NOMEM, "out of memory for the SVG");
    FILE *f = s == BL_OK ? fopen(path, "we") : NULL;
    if (s == BL_OK && !f) s = BL_ERROR(BL_ERR_IO, "cannot write %s: %s", path, strerror(errno));
    if (f) {
        bool ok = fwrite(b.data, 1, b.len, f) == b.len;
        ok = fclose(f) == 0 && ok;
        if (!ok) s = BL_ERROR(BL_ERR_IO, "cannot write %s: %s", path, strerror(errno));
    }
    bl_strbuf_free(&b);
    return s;
}
