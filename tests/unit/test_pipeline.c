/* test_pipeline.c — the scheduler's building blocks and the pipeline library entry point.
 *
 *  - bl_queue: FIFO order, bounded capacity (try_pop on empty, push blocks until a pop), close
 *    semantics (pushes fail, pops drain then fail, blocked threads wake), and a
 *    3-producer/3-consumer stress run where every item arrives exactly once.
 *  - The property the scheduler's invariance rests on: with the batch shape fixed, a window's
 *    scores do not depend on its position in the batch nor on its neighbours (the CPU
 *    executor on tests/data small_cnn, rows permuted and padding changed: identical bytes).
 *  - bl_pipeline_run in-process on a synthesized file, block sizes 0.25 s and 30 s and 1 vs 3
 *    files in flight: identical chunk bytes; and bl_pipeline_dry_run lists the work items.
 */
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/config.h"      /* bl_config_load_string */
#include "core/log.h"         /* quiet runs */
#include "core/pipeline.h"    /* bl_pipeline_run */
#include "core/queue.h"       /* bl_queue */
#include "core/synth.h"       /* test audio */
#include "models/exec.h"      /* bl_exec_* */
#include "models/onnx_load.h" /* bl_model_load */
#include "testutil.h"

/* ---- queue ----------------------------------------------------------------------------- */

#define N_PER_PRODUCER 20000
typedef struct {
    bl_queue *q;
    int id;
    int64_t sum, count;
} worker;

static void *producer(void *arg) {
    worker *w = arg;
    for (int i = 1; i <= N_PER_PRODUCER; i++) bl_queue_push(w->q, (void *)(intptr_t)(w->id * 1000000 + i));
    return NULL;
}

static void *consumer(void *arg) {
    worker *w = arg;
    void *p;
    while (bl_queue_pop(w->q, &p)) w->sum += (intptr_t)p, w->count++;
    return NULL;
}

static void *blocked_pop(void *arg) {
    void *p;
    return bl_queue_pop(arg, &p) ? (void *)1 : NULL;
}

static void test_queue(void) {
    bl_queue *q;
    BL_CHECK(bl_queue_create(0, &q) == BL_ERR_INVALID_ARG, "capacity 0 accepted");
    BL_CHECK(bl_queue_create(3, &q) == BL_OK, "%s", bl_error_message());
    void *p = NULL;
    BL_CHECK(!bl_queue_try_pop(q, &p), "pop from an empty queue");
    for (intptr_t i = 1; i <= 3; i++) BL_CHECK(bl_queue_push(q, (void *)i), "push %d", (int)i);
    BL_CHECK(bl_queue_size(q) == 3, "size %zu", bl_queue_size(q));
    for (intptr_t i = 1; i <= 2; i++) BL_CHECK(bl_queue_pop(q, &p) && (intptr_t)p == i, "FIFO order at %d", (int)i);
    BL_CHECK(bl_queue_push(q, (void *)4) && bl_queue_push(q, (void *)5), "push after pops");
    bl_queue_close(q);
    BL_CHECK(!bl_queue_push(q, (void *)6), "push after close succeeded");
    for (intptr_t i = 3; i <= 5; i++) BL_CHECK(bl_queue_pop(q, &p) && (intptr_t)p == i, "drain after close at %d", (int)i);
    BL_CHECK(!bl_queue_pop(q, &p), "pop from a closed empty queue succeeded");
    bl_queue_destroy(q);

    /* a pop blocked on an empty queue wakes up when the queue is closed */
    BL_CHECK(bl_queue_create(1, &q) == BL_OK, "create");
    pthread_t t;
    pthread_create(&t, NULL, blocked_pop, q);
    bl_queue_close(q);
    void *r;
    pthread_join(t, &r);
    BL_CHECK(r == NULL, "blocked pop returned an item");
    bl_queue_destroy(q);

    /* MPMC: every item once */
    BL_CHECK(bl_queue_create(7, &q) == BL_OK, "create");
    worker pw[3], cw[3];
    pthread_t pt[3], ct[3];
    for (int i = 0; i < 3; i++) {
        pw[i] = (worker){q, i + 1, 0, 0};
        cw[i] = (worker){q, 0, 0, 0};
        pthread_create(&ct[i], NULL, consumer, &cw[i]);
        pthread_create(&pt[i], NULL, producer, &pw[i]);
    }
    for (int i = 0; i < 3; i++) pthread_join(pt[i], NULL);
    bl_queue_close(q);
    int64_t sum = 0, count = 0, want = 0;
    for (int i = 0; i < 3; i++) pthread_join(ct[i], NULL), sum += cw[i].sum, count += cw[i].count;
    for (int id = 1; id <= 3; id++)
        want += (int64_t)id * 1000000 * N_PER_PRODUCER + (int64_t)N_PER_PRODUCER * (N_PER_PRODUCER + 1) / 2;
    BL_CHECK(count == 3 * N_PER_PRODUCER, "count %lld", (long long)count);
    BL_CHECK(sum == want, "sum %lld, want %lld", (long long)sum, (long long)want);
    bl_queue_destroy(q);
}

/* ---- batch rows are independent ------------------------------------------------------------ */

static void test_rows_independent(int threads) {
    bl_graph *g;
    bl_status s = bl_model_load(bl_test_source_path("tests/data/models/small_cnn.onnx"), NULL, &g);
    BL_CHECK(s == BL_OK, "%s", bl_error_message());
    if (s != BL_OK) return;
    const int B = 8, per = 16 * 16, C = 3;
    bl_exec_opts o = bl_exec_opts_default();
    o.max_batch = B, o.threads = threads;
    bl_exec *ex;
    s = bl_exec_create(bl_exec_backend_cpu(), g, &o, &ex);
    BL_CHECK(s == BL_OK, "%s", bl_error_message());
    float *x = malloc(sizeof(float) * B * per), *x2 = malloc(sizeof(float) * B * per);
    float y[8 * 3], y2[8 * 3];
    uint32_t st = 12345;
    for (int i = 0; i < B * per; i++) st = st * 1664525u + 1013904223u, x[i] = (float)(st >> 8) / (1 << 24) * 8 - 4;
    const void *in[1] = {x};
    void *out[1] = {y};
    BL_CHECK(bl_exec_run(ex, B, in, out) == BL_OK, "%s", bl_error_message());
    /* reversed rows, and rows 0..2 only with zero padding */
    for (int b = 0; b < B; b++) memcpy(x2 + (size_t)b * per, x + (size_t)(B - 1 - b) * per, sizeof(float) * per);
    in[0] = x2, out[0] = y2;
    BL_CHECK(bl_exec_run(ex, B, in, out) == BL_OK, "%s", bl_error_message());
    for (int b = 0; b < B; b++)
        BL_CHECK(!memcmp(y + b * C, y2 + (B - 1 - b) * C, sizeof(float) * C), "threads %d: row %d changed with its position",
                 threads, b);
    memcpy(x2, x, sizeof(float) * 3 * per);
    memset(x2 + 3 * per, 0, sizeof(float) * (B - 3) * per);
    BL_CHECK(bl_exec_run(ex, B, in, out) == BL_OK, "%s", bl_error_message());
    BL_CHECK(!memcmp(y, y2, sizeof(float) * 3 * C), "threads %d: rows changed with the padding", threads);
    free(x);
    free(x2);
    bl_exec_free(ex);
    bl_graph_free(g);
}

/* ---- the pipeline in-process ------------------------------------------------------------- */

static int run_once(const char *dir, const char *extra, const char *out) {
    char text[8192];
    snprintf(text, sizeof text,
             "sources: [%s/a.wav, %s/b.wav]\nmodel: %s/model\n"
             "pooling: {segment_seconds: 2, aggregates: [max, p50]}\n"
             "events: {threshold: 0.5, threshold_off: 0.45, min_gap_seconds: 0.1, min_duration_seconds: 0.05}\n"
             "output: {dir: %s/%s, rows_per_chunk: 30}\npersist: {window_scores: true}\n"
             "runtime: {threads: 1, progress: none, %s}\n",
             dir, dir, dir, dir, out, extra);
    bl_config cfg;
    bl_status s = bl_config_load_string(text, strlen(text), "test", &cfg);
    if (s == BL_OK) s = bl_config_validate(&cfg);
    if (s == BL_OK) {
        bl_run_opts o = {0};
        o.cfg = &cfg, o.threads = 1, o.progress = BL_PROGRESS_NONE;
        bl_run_result r;
        s = bl_pipeline_run(&o, &r);
        if (s == BL_OK) {
            BL_CHECK(r.n_items == 3 && r.n_committed == 3 && r.n_failed == 0, "items %lld committed %lld failed %lld",
                     (long long)r.n_items, (long long)r.n_committed, (long long)r.n_failed);
            BL_CHECK(r.audio_seconds > 9.9 && r.audio_seconds < 10.1, "audio %.3f s", r.audio_seconds);
        }
    }
    if (s != BL_OK) fprintf(stderr, "run %s: %s\n", out, bl_error_message());
    bl_config_free(&cfg);
    return s == BL_OK ? 0 : -1;
}

static void test_pipeline(void) {
    const char *tmp = bl_test_tmpdir("pipeline");
    char dir[1024], cmd[8192];
    snprintf(dir, sizeof dir, "%s", tmp);
    /* bl_test_source_path returns one static buffer: copy each path out */
    char onnx[1024], card[1024];
    snprintf(onnx, sizeof onnx, "%s", bl_test_source_path("tests/data/models/small_cnn.onnx"));
    snprintf(card, sizeof card, "%s", bl_test_source_path("tests/data/cards/small_cnn/model.yaml"));
    snprintf(cmd, sizeof cmd, "mkdir -p '%s/model' && cp '%s' '%s/model/model.onnx' && cp '%s' '%s/model/model.yaml'", dir,
             onnx, dir, card, dir);
    BL_CHECK(bl_test_run(cmd) == 0, "%s", cmd);
    bl_synth_params sp;
    bl_synth_params_default(&sp);
    sp.seconds = 6, sp.sample_rate = 8000, sp.n_calls = 2, sp.seed = 7;
    char a[1100], b[1100];
    snprintf(a, sizeof a, "%s/a.wav", dir);
    snprintf(b, sizeof b, "%s/b.wav", dir);
    BL_CHECK(bl_synth_write(&sp, a, NULL, NULL) == BL_OK, "%s", bl_error_message());
    sp.seconds = 4, sp.channels = 2, sp.sample_rate = 11025, sp.n_calls = 1, sp.seed = 8;
    BL_CHECK(bl_synth_write(&sp, b, NULL, NULL) == BL_OK, "%s", bl_error_message());
    BL_CHECK(run_once(dir, "block_seconds: 30", "ref") == 0, "reference run");
    BL_CHECK(run_once(dir, "block_seconds: 0.25, files_in_flight: 1", "small") == 0, "small blocks");
    BL_CHECK(run_once(dir, "block_seconds: 0.7, files_in_flight: 3", "three") == 0, "three in flight");
    const char *tables[] = {"segments", "events", "window_scores"};
    for (int t = 0; t < 3; t++) {
        snprintf(cmd, sizeof cmd,
                 "cd '%s' && ls ref/%s | grep -q part- && for f in ref/%s/*; do n=$(basename $f); "
                 "cmp -s $f small/%s/$n && cmp -s $f three/%s/$n || exit 1; done && "
                 "[ \"$(ls ref/%s)\" = \"$(ls small/%s)\" ] && [ \"$(ls ref/%s)\" = \"$(ls three/%s)\" ]",
                 dir, tables[t], tables[t], tables[t], tables[t], tables[t], tables[t], tables[t], tables[t]);
        BL_CHECK(bl_test_run(cmd) == 0, "%s chunks differ across block sizes / files in flight", tables[t]);
    }
    /* the dry run lists the items and writes nothing */
    char text[8192];
    snprintf(text, sizeof text, "sources: [%s/a.wav, %s/b.wav]\nmodel: %s/model\noutput: {dir: %s/dry}\n", dir, dir, dir, dir);
    bl_config cfg;
    BL_CHECK(bl_config_load_string(text, strlen(text), "dry", &cfg) == BL_OK, "%s", bl_error_message());
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    bl_run_opts o = {0};
    o.cfg = &cfg, o.threads = 1, o.progress = BL_PROGRESS_NONE;
    BL_CHECK(bl_pipeline_dry_run(&o, f) == BL_OK, "%s", bl_error_message());
    fclose(f);
    BL_CHECK(buf && strstr(buf, "work items (3, over 2 inputs)"), "dry run: %s", buf ? buf : "");
    free(buf);
    bl_config_free(&cfg);
    snprintf(cmd, sizeof cmd, "test ! -e '%s/dry'", dir);
    BL_CHECK(bl_test_run(cmd) == 0, "the dry run wrote %s/dry", dir);
}

int main(void) {
    bl_log_set_level(BL_LOG_WARN);
    test_queue();
    test_rows_independent(1);
    test_rows_independent(2);
    test_pipeline();
    return bl_test_finish("test_pipeline");
}
