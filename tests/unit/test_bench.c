/* test_bench.c — the pure parts of `baleen bench` (core/bench.c, bench_env.c,
 * bench_report.c): median, nearest-rank percentiles and spread on hand-computed cases; the
 * --batch auto choice (smallest batch within the best's spread, failed rows ignored, the
 * reasons named); the busy-machine warning from load and steal readings; the JSON report
 * parsed back (top-level env and results, every key of a result, null for what was not
 * measured); the SVG report's frame and escaping (tests/cli/bench.sh parses it with an XML
 * parser); the environment's peak estimate (positive, formula printed).
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/bench.h"
#include "io/json.h" /* bl_json_parse: the JSON report read back */
#include "testutil.h"

static bl_bench_row row(int batch, double wps, double lo, double hi) {
    bl_bench_row r;
    memset(&r, 0, sizeof r);
    r.batch = batch;
    r.windows_per_s = wps;
    r.windows_per_s_min = lo;
    r.windows_per_s_max = hi;
    r.n_runs = 3;
    r.audio_s = 600;
    r.time_s = 2000 / wps;
    r.realtime = r.audio_s / r.time_s;
    r.windows = 2000;
    for (int k = 0; k < BL_BENCH_STAGES; k++) r.stage_s[k] = 0.1 * (k + 1);
    r.peak_rss_mb = 40;
    return r;
}

static void test_stats(void) {
    double a[] = {5, 1, 3};
    BL_CHECK(bl_bench_median(a, 3) == 3, "median of 3");
    double b[] = {4, 1, 3, 2};
    BL_CHECK(bl_bench_median(b, 4) == 2.5, "median of 4");
    BL_CHECK(bl_bench_median(NULL, 0) == 0, "empty median");
    double c[20];
    for (int i = 0; i < 20; i++) c[i] = 20 - i; /* 1..20 */
    BL_CHECK(bl_bench_percentile(c, 20, 50) == 10, "p50 nearest rank: %g", bl_bench_percentile(c, 20, 50));
    BL_CHECK(bl_bench_percentile(c, 20, 95) == 19, "p95 nearest rank: %g", bl_bench_percentile(c, 20, 95));
    BL_CHECK(bl_bench_percentile(c, 20, 100) == 20, "p100");
    BL_CHECK(bl_bench_percentile(c, 20, 0) == 1, "p0");
    double one[] = {7};
    BL_CHECK(bl_bench_percentile(one, 1, 95) == 7, "p95 of one");
    double d[] = {1.0, 1.1, 0.9};
    BL_CHECK(fabs(bl_bench_spread(d, 3) - 0.2) < 1e-12, "spread %g", bl_bench_spread(d, 3));
    BL_CHECK(bl_bench_spread(one, 1) == 0, "spread of one run");
}

static void test_recommend(void) {
    char why[1024];
    /* best: 128 at 1000 (runs 950..1050, spread 100); 32 at 960 is within, 8 at 700 is not */
    bl_bench_row r[4] = {row(1, 200, 190, 210), row(8, 700, 690, 720), row(32, 960, 940, 980), row(128, 1000, 950, 1050)};
    int b = bl_bench_recommend(r, 4, why, sizeof why);
    BL_CHECK(b == 32, "recommended %d, expected 32", b);
    BL_CHECK(strstr(why, "batch 128") && strstr(why, "batch 32 reaches") && strstr(why, "batch 8: 700"), "why: %s", why);
    /* a tight best: nothing smaller comes close */
    r[3] = row(128, 1000, 995, 1005);
    b = bl_bench_recommend(r, 4, why, sizeof why);
    BL_CHECK(b == 128, "recommended %d, expected 128", b);
    BL_CHECK(strstr(why, "no smaller batch"), "why: %s", why);
    /* failed rows are ignored and named */
    r[2].failed = true;
    snprintf(r[2].msg, sizeof r[2].msg, "too much memory");
    r[3] = row(128, 1000, 600, 1100);
    b = bl_bench_recommend(r, 4, why, sizeof why);
    BL_CHECK(b == 8, "recommended %d, expected 8 (32 failed)", b);
    BL_CHECK(strstr(why, "batch 32: did not run (too much memory)"), "why: %s", why);
    /* nothing ran */
    for (int i = 0; i < 4; i++) r[i].failed = true;
    BL_CHECK(bl_bench_recommend(r, 4, why, sizeof why) == 0, "nothing to recommend");
    /* a small buffer is never overrun */
    char tiny[16];
    r[0] = row(1, 200, 190, 210);
    BL_CHECK(bl_bench_recommend(r, 1, tiny, sizeof tiny) == 1 && strlen(tiny) < sizeof tiny, "tiny buffer");
}

static void test_busy(void) {
    bl_bench_env e;
    memset(&e, 0, sizeof e);
    e.cpus_usable = 2;
    char msg[320];
    e.loadavg[0] = 0.3;
    BL_CHECK(!bl_bench_busy_warning(&e, msg, sizeof msg), "quiet machine warned");
    e.loadavg[0] = 1.0;
    BL_CHECK(bl_bench_busy_warning(&e, msg, sizeof msg) && strstr(msg, "load average 1.00 on 2"), "busy: %s", msg);
    e.loadavg[0] = 0;
    e.steal_share = 0.12;
    BL_CHECK(bl_bench_busy_warning(&e, msg, sizeof msg) && strstr(msg, "12%"), "steal: %s", msg);
    bl_bench_env_collect(&e, 1);
    BL_CHECK(e.cpus_usable >= 1 && e.peak_gflops > 0 && strstr(e.peak_how, "GHz"), "peak %g (%s)", e.peak_gflops, e.peak_how);
    BL_CHECK(e.commit[0] && e.libs[0], "version and libraries");
}

static bl_bench_report *sample_report(void) {
    bl_bench_report *r = calloc(1, sizeof *r);
    r->opts.threads = 2;
    r->opts.repeat = 3;
    r->opts.warmup = 1;
    r->opts.batch_auto = true;
    r->opts.mode = BL_BENCH_PIPELINE;
    r->has_card = true;
    snprintf(r->model_name, sizeof r->model_name, "a<b>&\"c'"); /* must be escaped in the SVG */
    snprintf(r->model_path, sizeof r->model_path, "m/model.onnx");
    snprintf(r->backend, sizeof r->backend, "cpu");
    bl_bench_env_collect(&r->env, 2);
    r->rows[0] = row(1, 200, 190, 210);
    r->rows[1] = row(8, 700, 690, 720);
    r->rows[2] = row(32, 0, 0, 0);
    r->rows[2].failed = true;
    snprintf(r->rows[2].msg, sizeof r->rows[2].msg, "refused");
    r->n_rows = 3;
    r->recommended = bl_bench_recommend(r->rows, 3, r->why, sizeof r->why);
    snprintf(r->warnings[r->n_warnings++], sizeof r->warnings[0], "a \"quoted\" warning");
    return r;
}

static void test_json(const char *dir) {
    bl_bench_report *r = sample_report();
    char path[4096];
    snprintf(path, sizeof path, "%s/b.json", dir);
    BL_CHECK(bl_bench_write_json(r, path) == BL_OK, "write json: %s", bl_error_message());
    size_t len = 0;
    char *text = bl_test_read_file(path, &len);
    BL_CHECK(text != NULL, "read back");
    bl_json *j = NULL;
    if (text && bl_json_parse(text, len, "b.json", &j) == BL_OK) {
        const bl_json *env = bl_json_get(j, "env"), *res = bl_json_get(j, "results");
        BL_CHECK(env && env->type == BL_JSON_OBJECT, "env");
        BL_CHECK(res && res->type == BL_JSON_ARRAY && res->n_items == 3, "results");
        static const char *const env_keys[] = {"cpu_model", "cpus_usable", "isa", "cpu_peak_gflops", "cpu_peak_how", "gpu",
                                               "libraries", "baleen_commit", "model_sha256", "loadavg", "threads"};
        for (size_t k = 0; env && k < sizeof env_keys / sizeof env_keys[0]; k++)
            BL_CHECK(bl_json_get(env, env_keys[k]) != NULL, "env.%s missing", env_keys[k]);
        static const char *const keys[] = {"batch", "realtime_factor", "windows_per_s", "gflops", "peak_rss_mb", "stages",
                                           "spread", "latency_p50_ms", "latency_p95_ms"};
        for (size_t i = 0; res && i < res->n_items; i++)
            for (size_t k = 0; k < sizeof keys / sizeof keys[0]; k++)
                BL_CHECK(bl_json_get(res->items[i], keys[k]) != NULL, "results[%zu].%s missing", i, keys[k]);
        if (res && res->n_items == 3) {
            const bl_json *st = bl_json_get(res->items[0], "stages");
            BL_CHECK(st && st->type == BL_JSON_OBJECT && bl_json_get(st, "model") && bl_json_get(st, "score+write"),
                     "stages of row 0");
            const bl_json *b = bl_json_get(res->items[1], "batch");
            BL_CHECK(b && b->type == BL_JSON_NUMBER && b->number == 8, "batch of row 1");
            const bl_json *rt = bl_json_get(res->items[2], "realtime_factor");
            BL_CHECK(rt && rt->type == BL_JSON_NULL, "a failed row has null figures");
            const bl_json *er = bl_json_get(res->items[2], "error");
            BL_CHECK(er && er->type == BL_JSON_STRING && !strcmp(er->string, "refused"), "error of row 2");
        }
        const bl_json *rec = bl_json_get(j, "recommendation");
        BL_CHECK(rec && bl_json_get(rec, "batch") && bl_json_get(rec, "batch")->number == 8, "recommendation");
        const bl_json *w = bl_json_get(j, "warnings");
        BL_CHECK(w && w->n_items == 1 && !strcmp(w->items[0]->string, "a \"quoted\" warning"), "warnings");
    } else {
        BL_CHECK(0, "the JSON does not parse: %s", bl_error_message());
    }
    bl_json_free(j);
    free(text);
    free(r);
}

static void test_svg(const char *dir) {
    bl_bench_report *r = sample_report();
    char path[4096];
    snprintf(path, sizeof path, "%s/b.svg", dir);
    BL_CHECK(bl_bench_write_svg(r, path) == BL_OK, "write svg: %s", bl_error_message());
    char *text = bl_test_read_file(path, NULL);
    BL_CHECK(text && !strncmp(text, "<?xml", 5) && strstr(text, "</svg>\n"), "svg frame");
    BL_CHECK(text && strstr(text, "a&lt;b&gt;&amp;&quot;c&apos;") && !strstr(text, "a<b>"), "escaped title");
    BL_CHECK(text && strstr(text, "<polyline"), "a line per series");
    free(text);
    /* one row without batches (--only io) still draws */
    r->opts.mode = BL_BENCH_IO;
    r->rows[0].batch = 0;
    r->n_rows = 1;
    BL_CHECK(bl_bench_write_svg(r, path) == BL_OK, "write svg of one point");
    free(r);
}

int main(void) {
    const char *dir = bl_test_tmpdir("bench");
    test_stats();
    test_recommend();
    test_busy();
    test_json(dir);
    test_svg(dir);
    return bl_test_finish("test_bench");
}
