/* progress.c — formatting of progress.h: the live line, the JSON records and the summary.
 * No state: each call formats one snapshot. Threading: one caller at a time per stream.
 */
#include "progress.h"

#include "sysinfo.h" /* bl_sys_peak_rss_bytes for the summary */

static double rtf(const bl_progress_snap *s) { return s->wall_s > 0 ? s->audio_s / s->wall_s : 0; }

/* The stage with the most busy time (the bottleneck), or -1 before any work. */
static int slowest(const bl_progress_snap *s) {
    int k = -1;
    for (int i = 0; i < BL_PROGRESS_STAGES; i++)
        if (s->busy_s[i] > 0 && (k < 0 || s->busy_s[i] > s->busy_s[k])) k = i;
    return k;
}

static void fmt_dur(double sec, char *buf, size_t cap) {
    if (!(sec >= 0) || sec > 1e8) {
        snprintf(buf, cap, "?");
        return;
    }
    long t = (long)(sec + 0.5);
    if (t >= 3600) snprintf(buf, cap, "%ldh%02ldm", t / 3600, t / 60 % 60);
    else if (t >= 60) snprintf(buf, cap, "%ldm%02lds", t / 60, t % 60);
    else snprintf(buf, cap, "%lds", t);
}

void bl_progress_line(FILE *f, const bl_progress_snap *s) {
    char eta[32] = "?";
    double r = rtf(s);
    if (s->audio_total_s > 0 && r > 0) fmt_dur((s->audio_total_s - s->audio_s) / r, eta, sizeof eta);
    int k = slowest(s);
    char slow[64] = "";
    if (k >= 0) snprintf(slow, sizeof slow, ", slowest: %s %.0fx", s->stage_names[k], s->audio_s / s->busy_s[k]);
    fprintf(f, "\r\033[Kbaleen run: %lld/%lld files, %.2f h audio, %.0fx realtime, ETA %s%s",
            (long long)s->files_done, (long long)s->files_total, s->audio_s / 3600, r, eta, slow);
    fflush(f);
}

void bl_progress_json(FILE *f, const bl_progress_snap *s) {
    double r = rtf(s);
    double eta = s->audio_total_s > 0 && r > 0 ? (s->audio_total_s - s->audio_s) / r : -1;
    int k = slowest(s);
    fprintf(f,
            "{\"files_done\":%lld,\"files_total\":%lld,\"items_done\":%lld,\"items_total\":%lld,"
            "\"items_failed\":%lld,\"items_warned\":%lld,\"audio_s\":%.3f,\"audio_total_s\":%.3f,\"wall_s\":%.3f,"
            "\"realtime\":%.3f,\"eta_s\":%.1f,\"slowest_stage\":\"%s\",\"busy_s\":{",
            (long long)s->files_done, (long long)s->files_total, (long long)s->items_done,
            (long long)s->items_total, (long long)s->items_failed, (long long)s->items_warned, s->audio_s, s->audio_total_s, s->wall_s, r,
            eta, k >= 0 ? s->stage_names[k] : "");
    for (int i = 0; i < BL_PROGRESS_STAGES; i++)
        fprintf(f, "%s\"%s\":%.3f", i ? "," : "", s->stage_names[i], s->busy_s[i]);
    fprintf(f, "}}\n");
    fflush(f);
}

void bl_progress_summary(FILE *f, const bl_progress_snap *s) {
    double total = 0;
    for (int i = 0; i < BL_PROGRESS_STAGES; i++) total += s->busy_s[i];
    char wall[32];
    fmt_dur(s->wall_s, wall, sizeof wall);
    fprintf(f, "baleen run: %.3f h of audio in %s (%.1f s wall), %.1fx realtime; %lld/%lld items%s",
            s->audio_s / 3600, wall, s->wall_s, rtf(s), (long long)s->items_done, (long long)s->items_total,
            s->items_failed || s->items_warned ? "" : "\n");
    if (s->items_failed) fprintf(f, ", %lld failed (errors.csv)%s", (long long)s->items_failed, s->items_warned ? "" : "\n");
    if (s->items_warned) fprintf(f, ", %lld with warnings (warnings.csv)\n", (long long)s->items_warned);
    fprintf(f, "baleen run: time per stage:");
    for (int i = 0; i < BL_PROGRESS_STAGES; i++)
        fprintf(f, " %s %.1f s (%.0f%%)%s", s->stage_names[i], s->busy_s[i],
                total > 0 ? 100 * s->busy_s[i] / total : 0, i + 1 < BL_PROGRESS_STAGES ? "," : "");
    fprintf(f, "; peak RSS %.1f MiB", (double)bl_sys_peak_rss_bytes() / (1 << 20));
    if (s->mem_estimate > 0) fprintf(f, " (estimated %.1f MiB)", (double)s->mem_estimate / (1 << 20));
    fputc('\n', f);
}
