/* test_config.c — the configuration module (core/config.h): defaults, loading every key
 * type, every kind of error with its exact file:line:column text, "did you mean", --set,
 * cross-field validation, dump → load round trips, and docs/config.md against the code.
 */
#include <stdio.h>  /* open_memstream: dumps into memory */
#include <stdlib.h> /* malloc, free */
#include <string.h> /* strcmp, strstr */

#include "core/config.h" /* the module under test */
#include "testutil.h"    /* BL_CHECK, bl_test_source_path, bl_test_tmpdir */

/* ---- helpers ------------------------------------------------------------------------- */

static bl_status load(const char *text, bl_config *c) {
    return bl_config_load_string(text, strlen(text), "t.yaml", c);
}

/* Load `text` (then validate when `validate`), expect BL_ERR_CONFIG with exactly `want`. */
static void expect_msg_(const char *text, bool validate, const char *want, bool exact, int line) {
    bl_config c;
    bl_status s = load(text, &c);
    if (s == BL_OK && validate) s = bl_config_validate(&c);
    const char *got = bl_error_message();
    if (s != BL_ERR_CONFIG) {
        fprintf(stderr, "test_config.c:%d: expected BL_ERR_CONFIG, got %s (%s) for:\n%s\n", line,
                bl_errname(s), got, text);
        bl_test_failures++;
    } else if (exact ? strcmp(got, want) != 0 : strstr(got, want) == NULL) {
        fprintf(stderr, "test_config.c:%d: message mismatch\n  want%s: %s\n  got:  %s\n", line,
                exact ? "" : " (part)", want, got);
        bl_test_failures++;
    }
    bl_config_free(&c);
}
#define EXPECT_LOAD_ERR(text, want) expect_msg_(text, false, want, true, __LINE__)
#define EXPECT_LOAD_ERR_PART(text, want) expect_msg_(text, false, want, false, __LINE__)
#define EXPECT_INVALID(text, want) expect_msg_(text, true, want, true, __LINE__)

static void expect_set_err_(bl_config *c, const char *arg, const char *want, int line) {
    bl_status s = bl_config_set(c, arg);
    if (s != BL_ERR_CONFIG || strcmp(bl_error_message(), want) != 0) {
        fprintf(stderr, "test_config.c:%d: --set %s\n  want: %s\n  got:  %s (%s)\n", line, arg,
                want, bl_error_message(), bl_errname(s));
        bl_test_failures++;
    }
}
#define EXPECT_SET_ERR(c, arg, want) expect_set_err_(c, arg, want, __LINE__)

/* Text of bl_config_dump(c); caller frees. */
static char *dump_text(const bl_config *c) {
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    if (!f) return NULL;
    bl_status s = bl_config_dump(c, f);
    fclose(f);
    if (s != BL_OK) {
        free(buf);
        return NULL;
    }
    return buf;
}

/* Dump c, load the dump back: the configs must be equal and the second dump identical. */
static void check_round_trip_(const bl_config *c, const char *what, int line) {
    char *d1 = dump_text(c);
    if (!d1) {
        fprintf(stderr, "test_config.c:%d: %s: dump failed: %s\n", line, what, bl_error_message());
        bl_test_failures++;
        return;
    }
    bl_config back;
    bl_status s = bl_config_load_string(d1, strlen(d1), "dump.yaml", &back);
    if (s != BL_OK) {
        fprintf(stderr, "test_config.c:%d: %s: the dump does not load: %s\n%s\n", line, what,
                bl_error_message(), d1);
        bl_test_failures++;
    } else {
        char *d2 = dump_text(&back);
        if (!bl_config_equal(c, &back)) {
            fprintf(stderr, "test_config.c:%d: %s: reloaded config differs\n--- dump:\n%s--- reloaded:\n%s",
                    line, what, d1, d2 ? d2 : "?");
            bl_test_failures++;
        }
        BL_CHECK(d2 && !strcmp(d1, d2), "%s: second dump differs", what);
        free(d2);
    }
    bl_config_free(&back);
    free(d1);
}
#define CHECK_ROUND_TRIP(c, what) check_round_trip_(c, what, __LINE__)

/* ---- tests --------------------------------------------------------------------------- */

static void test_defaults(void) {
    bl_config c;
    BL_CHECK(bl_config_init_defaults(&c) == BL_OK, "init: %s", bl_error_message());
    BL_CHECK(c.n_sources == 0 && c.sources == NULL, "sources default empty");
    BL_CHECK(c.model && !strcmp(c.model, "models/zoo/whalecall-small"), "model %s", c.model);
    const bl_frontend_params *fe = &c.frontend;
    BL_CHECK(fe->sample_rate == 16000, "sample_rate %d", fe->sample_rate);
    BL_CHECK(fe->n_fft == 1024, "n_fft %d", fe->n_fft);
    BL_CHECK(fe->win_length == 0, "win_length %d", fe->win_length);
    BL_CHECK(fe->hop_length == 300, "hop %d", fe->hop_length);
    BL_CHECK(fe->window == BL_WINDOW_HANN, "window");
    BL_CHECK(fe->center == true, "center");
    BL_CHECK(fe->pad_mode == BL_PAD_REFLECT, "pad_mode %d", fe->pad_mode);
    BL_CHECK(fe->power == 2.0, "power %g", fe->power);
    BL_CHECK(fe->mel.n_mels == 64, "n_mels %d", fe->mel.n_mels);
    BL_CHECK(fe->mel.fmin == 0.0 && fe->mel.fmax == 0.0, "fmin %g fmax %g", fe->mel.fmin, fe->mel.fmax);
    BL_CHECK(fe->mel.scale == BL_MEL_SLANEY && fe->mel.norm == BL_MELNORM_SLANEY, "mel scale/norm");
    BL_CHECK(fe->compression.type == BL_COMP_LOG, "compression type");
    BL_CHECK(fe->compression.eps == 1e-6, "eps %g", fe->compression.eps);
    BL_CHECK(fe->compression.amin == 1e-10, "amin %g", fe->compression.amin);
    BL_CHECK(fe->compression.alpha == 0.98 && fe->compression.delta == 2.0 &&
                 fe->compression.r == 0.5 && fe->compression.time_constant == 0.4,
             "pcen defaults");
    /* what frontend.h documents for bl_frontend_params_default: win 1024, mels 0..8000 Hz */
    int win = fe->win_length ? fe->win_length : fe->n_fft;
    double fmax = fe->mel.fmax > 0 ? fe->mel.fmax : fe->sample_rate / 2.0;
    BL_CHECK(win == 1024 && fmax == 8000.0, "effective win %d fmax %g", win, fmax);
    BL_CHECK(c.pooling.segment_seconds == 60.0, "segment_seconds");
    BL_CHECK(c.pooling.n_aggregates == 2 && !strcmp(c.pooling.aggregates[0], "max") &&
                 !strcmp(c.pooling.aggregates[1], "mean"),
             "aggregates");
    BL_CHECK(c.events.threshold == 0.5 && c.events.threshold_off == 0.35 &&
                 c.events.min_gap_seconds == 1.0 && c.events.min_duration_seconds == 0.3,
             "events");
    BL_CHECK(c.output.dir && !strcmp(c.output.dir, "out"), "output.dir");
    BL_CHECK(c.output.rows_per_chunk == 100000 && c.output.zstd_level == 3, "output ints");
    BL_CHECK(!c.output.clips_enabled && c.output.clips_pad_seconds == 1.0, "clips");
    BL_CHECK(c.runtime.backend == BL_BACKEND_AUTO && c.runtime.threads == 0, "runtime");
    BL_CHECK(c.origin == NULL, "defaults have no origin");
    BL_CHECK(bl_config_validate(&c) == BL_OK, "defaults must validate: %s", bl_error_message());
    CHECK_ROUND_TRIP(&c, "defaults");
    bl_config_free(&c);
    bl_config_free(&c); /* freeing twice (zeroed) is harmless */
}

static const char *k_full =
    "# every key, none at its default\n"
    "sources:\n"
    "  - a.wav\n"
    "  - {url: \"s3://b/c.wav\", time_pattern: \"MARS-%Y%m%dT%H%M%SZ\",\n"
    "     start: \"2018-11-01T03:00:00Z\", end: 7200}\n"
    "  - path: dir/\n"
    "    start: 10.5\n"
    "    end: ~\n"
    "model: 'm/x'\n"
    "frontend:\n"
    "  sample_rate: 32000\n"
    "  n_fft: 2048\n"
    "  win_length: 1600\n"
    "  hop_length: 320\n"
    "  window: hann\n"
    "  center: no\n"
    "  pad_mode: constant\n"
    "  power: 1\n"
    "  mel: {n_mels: 128, fmin: 50, fmax: 15000.5, scale: htk, norm: none}\n"
    "  compression:\n"
    "    type: pcen\n"
    "    eps: 1e-5\n"
    "    amin: 1.0e-8\n"
    "    alpha: 0.9\n"
    "    delta: 1.5\n"
    "    r: 0.25\n"
    "    time_constant: 0.06\n"
    "pooling: {segment_seconds: 30, aggregates: [p90, top3_mean, max]}\n"
    "events: {threshold: 0.7, threshold_off: 0.6, min_gap_seconds: 2, min_duration_seconds: 0.1}\n"
    "output:\n"
    "  dir: results\n"
    "  rows_per_chunk: 5000\n"
    "  zstd_level: 19\n"
    "  clips: {enabled: true, pad_seconds: 0.5}\n"
    "runtime: {backend: cuda, threads: 8}\n";

static void test_load_every_type(void) {
    bl_config c;
    bl_status s = load(k_full, &c);
    BL_CHECK(s == BL_OK, "load: %s", bl_error_message());
    if (s != BL_OK) {
        bl_config_free(&c);
        return;
    }
    BL_CHECK(c.origin && !strcmp(c.origin, "t.yaml"), "origin");
    BL_CHECK(c.n_sources == 3, "n_sources %zu", c.n_sources);
    if (c.n_sources == 3) {
        BL_CHECK(!strcmp(c.sources[0].path, "a.wav") && !c.sources[0].time_pattern &&
                     !c.sources[0].start && !c.sources[0].end,
                 "source 0");
        BL_CHECK(!strcmp(c.sources[1].path, "s3://b/c.wav"), "url alias: %s", c.sources[1].path);
        BL_CHECK(!strcmp(c.sources[1].time_pattern, "MARS-%Y%m%dT%H%M%SZ"), "time_pattern");
        BL_CHECK(!strcmp(c.sources[1].start, "2018-11-01T03:00:00Z"), "start");
        BL_CHECK(!strcmp(c.sources[1].end, "7200"), "end %s", c.sources[1].end);
        BL_CHECK(!strcmp(c.sources[2].path, "dir/") && !strcmp(c.sources[2].start, "10.5") &&
                     c.sources[2].end == NULL,
                 "source 2");
    }
    BL_CHECK(!strcmp(c.model, "m/x"), "model");
    const bl_frontend_params *fe = &c.frontend;
    BL_CHECK(fe->sample_rate == 32000 && fe->n_fft == 2048 && fe->win_length == 1600 &&
                 fe->hop_length == 320, "frontend ints");
    BL_CHECK(!fe->center && fe->pad_mode == BL_PAD_CONSTANT && fe->power == 1.0, "center/pad/power");
    BL_CHECK(fe->mel.n_mels == 128 && fe->mel.fmin == 50 && fe->mel.fmax == 15000.5 &&
                 fe->mel.scale == BL_MEL_HTK && fe->mel.norm == BL_MELNORM_NONE,
             "mel");
    BL_CHECK(fe->compression.type == BL_COMP_PCEN && fe->compression.eps == 1e-5 &&
                 fe->compression.amin == 1e-8 && fe->compression.alpha == 0.9 &&
                 fe->compression.delta == 1.5 && fe->compression.r == 0.25 &&
                 fe->compression.time_constant == 0.06,
             "compression");
    BL_CHECK(c.pooling.segment_seconds == 30 && c.pooling.n_aggregates == 3 &&
                 !strcmp(c.pooling.aggregates[0], "p90") && !strcmp(c.pooling.aggregates[1], "top3_mean") &&
                 !strcmp(c.pooling.aggregates[2], "max"),
             "pooling");
    BL_CHECK(c.events.threshold == 0.7 && c.events.threshold_off == 0.6 &&
                 c.events.min_gap_seconds == 2 && c.events.min_duration_seconds == 0.1,
             "events");
    BL_CHECK(!strcmp(c.output.dir, "results") && c.output.rows_per_chunk == 5000 &&
                 c.output.zstd_level == 19 && c.output.clips_enabled && c.output.clips_pad_seconds == 0.5,
             "output");
    BL_CHECK(c.runtime.backend == BL_BACKEND_CUDA && c.runtime.threads == 8, "runtime");
    BL_CHECK(bl_config_validate(&c) == BL_OK, "validate: %s", bl_error_message());
    CHECK_ROUND_TRIP(&c, "every key set");

    /* bl_config_equal must see a change in any kind of key, or the round trips prove nothing */
    bl_config d;
    BL_CHECK(load(k_full, &d) == BL_OK, "reload");
    BL_CHECK(bl_config_equal(&c, &d), "same text, equal configs");
    d.frontend.mel.fmax = 15000.25;
    BL_CHECK(!bl_config_equal(&c, &d), "double change unseen");
    d.frontend.mel.fmax = 15000.5;
    d.sources[1].end[0] = '8';
    BL_CHECK(!bl_config_equal(&c, &d), "source change unseen");
    d.sources[1].end[0] = '7';
    d.pooling.aggregates[2][1] = 'i';
    BL_CHECK(!bl_config_equal(&c, &d), "list change unseen");
    d.pooling.aggregates[2][1] = 'a';
    d.output.clips_enabled = false;
    BL_CHECK(!bl_config_equal(&c, &d), "bool change unseen");
    bl_config_free(&d);
    bl_config_free(&c);

    /* booleans in YAML 1.1 spellings; a single string as a one-item list; ints as doubles */
    static const char *const trues[] = {"true", "True", "TRUE", "yes", "on"};
    for (size_t i = 0; i < 5; i++) {
        char text[128];
        snprintf(text, sizeof text, "output: {clips: {enabled: %s}}\nsources: one.wav\n", trues[i]);
        BL_CHECK(load(text, &c) == BL_OK && c.output.clips_enabled && c.n_sources == 1 &&
                     !strcmp(c.sources[0].path, "one.wav"),
                 "%s: %s", trues[i], bl_error_message());
        bl_config_free(&c);
    }
}

static void test_empty_inputs(void) {
    static const char *const texts[] = {"", "# only a comment\n", "---\n", "~\n", "frontend:\n",
                                        "\xEF\xBB\xBFmodel: m\n"};
    bl_config def;
    bl_config_init_defaults(&def);
    for (size_t i = 0; i < sizeof texts / sizeof texts[0]; i++) {
        bl_config c;
        bl_error_clear();
        bl_status s = load(texts[i], &c);
        BL_CHECK(s == BL_OK, "input %zu: %s", i, bl_error_message());
        BL_CHECK(bl_error_message()[0] == '\0', "input %zu: says something: %s", i, bl_error_message());
        if (i < 5) BL_CHECK(bl_config_equal(&c, &def), "input %zu should give the defaults", i);
        else BL_CHECK(!strcmp(c.model, "m"), "BOM");
        bl_config_free(&c);
    }
    bl_config c;
    BL_CHECK(bl_config_load_string(NULL, 0, NULL, &c) == BL_OK, "NULL, 0");
    bl_config_free(&c);
    bl_config_free(&def);
}

static void test_type_errors(void) {
    EXPECT_LOAD_ERR("frontend:\n  n_fft: abc\n",
                    "t.yaml:2:10: frontend.n_fft: expected an integer in [16, 65536], got \"abc\"");
    EXPECT_LOAD_ERR("frontend:\n  n_fft: 8\n",
                    "t.yaml:2:10: frontend.n_fft: expected an integer in [16, 65536], got \"8\"");
    EXPECT_LOAD_ERR("frontend:\n  n_fft: 1024.5\n",
                    "t.yaml:2:10: frontend.n_fft: expected an integer in [16, 65536], got \"1024.5\"");
    EXPECT_LOAD_ERR("frontend:\n  n_fft: 99999999999999999999\n",
                    "t.yaml:2:10: frontend.n_fft: expected an integer in [16, 65536], got "
                    "\"99999999999999999999\"");
    EXPECT_LOAD_ERR("frontend:\n  n_fft:\n",
                    "t.yaml:2:9: frontend.n_fft: expected an integer in [16, 65536], got null");
    EXPECT_LOAD_ERR("frontend:\n  n_fft: [1]\n",
                    "t.yaml:2:10: frontend.n_fft: expected an integer in [16, 65536], got a list");
    EXPECT_LOAD_ERR("frontend:\n  power: 0\n",
                    "t.yaml:2:10: frontend.power: expected a number in (0, 4], got \"0\"");
    EXPECT_LOAD_ERR("frontend:\n  power: .nan\n",
                    "t.yaml:2:10: frontend.power: expected a number in (0, 4], got \".nan\"");
    EXPECT_LOAD_ERR("frontend:\n  power: 1e999\n",
                    "t.yaml:2:10: frontend.power: expected a number in (0, 4], got \"1e999\"");
    EXPECT_LOAD_ERR("frontend: {center: maybe}\n",
                    "t.yaml:1:20: frontend.center: expected true or false, got \"maybe\"");
    EXPECT_LOAD_ERR("runtime:\n  backend: gpu\n",
                    "t.yaml:2:12: runtime.backend: expected one of auto, cpu, cuda, got \"gpu\"");
    EXPECT_LOAD_ERR("model: \"\"\n", "t.yaml:1:8: model: expected a non-empty string, got \"\"");
    EXPECT_LOAD_ERR("model: {a: 1}\n", "t.yaml:1:8: model: expected a non-empty string, got a mapping");
    EXPECT_LOAD_ERR("pooling:\n  aggregates: [max, p0]\n",
                    "t.yaml:2:21: pooling.aggregates[1]: expected max, mean, pNN (NN 1..99) or "
                    "topK_mean (K >= 1), e.g. p90, top3_mean, got \"p0\"");
    EXPECT_LOAD_ERR("pooling:\n  aggregates: {max: 1}\n",
                    "t.yaml:2:15: pooling.aggregates: expected a list of strings, e.g. [max, mean], "
                    "got a mapping");
    EXPECT_LOAD_ERR("frontend: 3\n",
                    "t.yaml:1:11: frontend: expected a mapping with the keys sample_rate, n_fft, "
                    "win_length, hop_length, window, center, pad_mode, power, mel, compression, got \"3\"");
    /* long values are shortened in messages */
    EXPECT_LOAD_ERR_PART("runtime: {backend: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa}\n",
                         "got \"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa...\"");
}

static void test_aggregate_names(void) {
    static const char *const good[] = {"max", "mean", "p1", "p50", "p99", "top1_mean", "top25_mean"};
    static const char *const bad[] = {"min", "p0", "p100", "p05", "p", "top0_mean", "top_mean",
                                      "topx_mean", "top3", "MAX", "p9x"};
    for (size_t i = 0; i < sizeof good / sizeof good[0]; i++) {
        char text[96];
        snprintf(text, sizeof text, "pooling: {aggregates: [%s]}\n", good[i]);
        bl_config c;
        BL_CHECK(load(text, &c) == BL_OK && bl_config_validate(&c) == BL_OK, "%s: %s", good[i],
                 bl_error_message());
        bl_config_free(&c);
    }
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        char text[96], want[128];
        snprintf(text, sizeof text, "pooling: {aggregates: [%s]}\n", bad[i]);
        snprintf(want, sizeof want, "pooling.aggregates[0]: expected max, mean, pNN");
        EXPECT_LOAD_ERR_PART(text, want);
    }
}

static void test_unknown_keys(void) {
    EXPECT_LOAD_ERR("frontend:\n  hop_lenght: 3\n",
                    "t.yaml:2:3: frontend.hop_lenght: unknown key (did you mean 'frontend.hop_length'?)");
    EXPECT_LOAD_ERR("hop_length: 3\n",
                    "t.yaml:1:1: hop_length: unknown key (did you mean 'frontend.hop_length'?)");
    EXPECT_LOAD_ERR("frontnd:\n  n_fft: 3\n", "t.yaml:1:1: frontnd: unknown key (did you mean 'frontend'?)");
    EXPECT_LOAD_ERR("frontend:\n  mel:\n    nmels: 3\n",
                    "t.yaml:3:5: frontend.mel.nmels: unknown key (did you mean 'frontend.mel.n_mels'?)");
    EXPECT_LOAD_ERR("events:\n  zzzzzzzz: 1\n",
                    "t.yaml:2:3: events.zzzzzzzz: unknown key; the keys of events are: threshold, "
                    "threshold_off, min_gap_seconds, min_duration_seconds");
    EXPECT_LOAD_ERR("zzzzzzzzzz: 1\n",
                    "t.yaml:1:1: zzzzzzzzzz: unknown key; the keys at the top level are: sources, model, "
                    "input, frontend, windows, batch, pooling, events, output, persist, runtime");
    EXPECT_LOAD_ERR("frontend.n_fft: 512\n",
                    "t.yaml:1:1: frontend.n_fft: write nested keys as nested mappings, not with dots "
                    "(e.g. frontend: {n_fft: 512})");
    EXPECT_LOAD_ERR("sources:\n  - {pth: a}\n",
                    "t.yaml:2:6: sources[0].pth: unknown key (did you mean 'path'?)");
    EXPECT_LOAD_ERR("sources:\n  - a.wav\n  - {path: b, qqqqqqq: 1}\n",
                    "t.yaml:3:15: sources[1].qqqqqqq: unknown key; a source has the keys: path, url, "
                    "time_pattern, start, end");
    EXPECT_LOAD_ERR("<<: {model: x}\n",
                    "t.yaml:1:1: <<: unknown key; the keys at the top level are: sources, model, "
                    "input, frontend, windows, batch, pooling, events, output, persist, runtime");
}

static void test_structure_errors(void) {
    EXPECT_LOAD_ERR("model: a\nmodel: b\n", "t.yaml:2:1: model: duplicate key (first given at line 1, column 1)");
    EXPECT_LOAD_ERR("frontend:\n  n_fft: 512\n  n_fft: 256\n",
                    "t.yaml:3:3: frontend.n_fft: duplicate key (first given at line 2, column 3)");
    EXPECT_LOAD_ERR("sources:\n  - {path: a, start: 1, start: 2}\n",
                    "t.yaml:2:25: sources[0].start: duplicate key (first given at line 2, column 15)");
    EXPECT_LOAD_ERR("- a\n- b\n",
                    "t.yaml:1:1: the top level must be a mapping of keys (e.g. `model: ...`), got a list");
    EXPECT_LOAD_ERR("hello\n",
                    "t.yaml:1:1: the top level must be a mapping of keys (e.g. `model: ...`), got \"hello\"");
    EXPECT_LOAD_ERR("model: &m x\n",
                    "t.yaml:1:8: anchors (&m) are not supported; write each value out in full");
    EXPECT_LOAD_ERR("frontend: &f {n_fft: 512}\n",
                    "t.yaml:1:11: anchors (&f) are not supported; write each value out in full");
    EXPECT_LOAD_ERR("model: *m\n", "t.yaml:1:8: aliases (*m) are not supported; write the value out in full");
    EXPECT_LOAD_ERR("model: a\n---\nmodel: b\n",
                    "t.yaml:2:1: a second YAML document ('---'); a config is a single document");
    EXPECT_LOAD_ERR("{[a]: 1}\n", "t.yaml:1:2: a list or mapping used as a key; keys are plain words");
    EXPECT_LOAD_ERR("sources:\n  - [a]\n",
                    "t.yaml:2:5: sources[0]: expected a path or a mapping {path, time_pattern, start, "
                    "end}, got a list");
    EXPECT_LOAD_ERR("sources:\n  - {start: 5}\n",
                    "t.yaml:2:5: sources[0]: no path; each source needs `path:` (a file, glob or URL)");
    EXPECT_LOAD_ERR("sources:\n  - {path: a, url: b}\n",
                    "t.yaml:2:15: sources[0]: give either path or url, not both (they are one key)");
    EXPECT_LOAD_ERR("sources:\n  - {path: a, start: yesterday}\n",
                    "t.yaml:2:22: sources[0].start: expected seconds from the file's start (e.g. 3600) "
                    "or ISO-8601 UTC (e.g. 2018-11-01T03:00:00Z), got \"yesterday\"");
    EXPECT_LOAD_ERR("sources:\n  - {path: ~}\n",
                    "t.yaml:2:12: sources[0].path: expected a non-empty string, got null");

    /* syntax errors carry libyaml's position and problem */
    EXPECT_LOAD_ERR("frontend:\n  n_fft: 512\n n_mels: 3\n",
                    "t.yaml:3:2: YAML syntax error: did not find expected key (while parsing a block "
                    "mapping at line 1, column 1)");
    EXPECT_LOAD_ERR_PART("model: [a, b\n", "t.yaml:2:1: YAML syntax error: did not find expected ',' or ']'");
    EXPECT_LOAD_ERR_PART("model: \"abc\n", "t.yaml:2:1: YAML syntax error: found unexpected end of stream");
    EXPECT_LOAD_ERR("model: a\nout: \xff\n",
                    "t.yaml:2:6: invalid leading UTF-8 octet (byte 0xFF); a config must be UTF-8 text");
    EXPECT_LOAD_ERR("model: a\x01" "b\n",
                    "t.yaml:1:9: control characters are not allowed (byte 0x01); a config must be UTF-8 text");
    EXPECT_LOAD_ERR("model: \"a\\0b\"\n",
                    "t.yaml:1:8: a value holds a NUL character (\\0), which is not allowed");

    /* hostile sizes: deep nesting, a huge value, a huge file */
    char deep[256];
    memset(deep, '[', 200);
    deep[200] = '\0';
    EXPECT_LOAD_ERR(deep, "t.yaml:1:33: nesting deeper than 32 levels");
    char *deepmap = malloc(64 * 40 + 1);
    deepmap[0] = '\0';
    for (int i = 0; i < 40; i++) strcat(deepmap, "{a: ");
    EXPECT_LOAD_ERR_PART(deepmap, "nesting deeper than 32 levels");
    free(deepmap);
    size_t big = 70000;
    char *huge = malloc(big + 16);
    memcpy(huge, "model: ", 7);
    memset(huge + 7, 'x', big);
    strcpy(huge + 7 + big, "\n");
    EXPECT_LOAD_ERR(huge, "t.yaml:1:8: a value of 70000 bytes; the longest allowed is 65536");
    free(huge);
    size_t nv = 250000; /* values, not bytes: a flow list of 250000 one-letter items */
    char *many = malloc(10 + 2 * nv + 2);
    strcpy(many, "sources: [");
    for (size_t i = 0; i < nv; i++) memcpy(many + 10 + 2 * i, "a,", 2);
    strcpy(many + 10 + 2 * nv - 1, "]\n");
    EXPECT_LOAD_ERR_PART(many, "more than 200000 values; list many inputs in a manifest .csv");
    free(many);
    size_t n = ((size_t)16 << 20) + 1;
    char *file = malloc(n + 1);
    memset(file, '#', n);
    file[n] = '\0';
    EXPECT_LOAD_ERR(file, "t.yaml: the config is 16777217 bytes; the limit is 16777216 (is this a config file?)");
    free(file);
}

static void test_validation(void) {
    EXPECT_INVALID("frontend:\n  n_fft: 1023\n", "t.yaml:2:10: frontend.n_fft: must be even, got 1023");
    EXPECT_INVALID("frontend:\n  n_fft: 512\n  win_length: 1024\n",
                   "t.yaml:3:15: frontend.win_length: must be <= frontend.n_fft (512), got 1024");
    EXPECT_INVALID("frontend:\n  mel: {fmax: 9000}\n",
                   "t.yaml:2:15: frontend.mel.fmax: must be <= frontend.sample_rate/2 (8000 Hz), got 9000");
    EXPECT_INVALID("frontend:\n  mel: {fmin: 4000, fmax: 3000}\n",
                   "t.yaml:2:15: frontend.mel.fmin: must be < frontend.mel.fmax (3000 Hz), got 4000");
    EXPECT_INVALID("frontend:\n  sample_rate: 8000\n  mel: {fmin: 4000}\n",
                   "t.yaml:3:15: frontend.mel.fmin: must be < frontend.mel.fmax (4000 Hz, "
                   "sample_rate/2), got 4000");
    EXPECT_INVALID("events: {threshold: 0.3}\n",
                   "t.yaml:1:21: events.threshold_off: must be <= events.threshold (0.3), got 0.35");
    EXPECT_INVALID("pooling: {aggregates: [max, max]}\n",
                   "t.yaml:1:23: pooling.aggregates: \"max\" is listed twice (items 0 and 1)");
    EXPECT_INVALID("pooling: {aggregates: []}\n",
                   "t.yaml:1:23: pooling.aggregates: needs at least one item, e.g. [max]");
    EXPECT_INVALID("sources:\n  - {path: a, start: 60, end: 30}\n",
                   "t.yaml:2:3: sources[0]: start (60) must come before end (30)");

    /* a config filled in by code: no position to give, still the key and the range */
    bl_config c;
    bl_config_init_defaults(&c);
    c.frontend.hop_length = 0;
    BL_CHECK(bl_config_validate(&c) == BL_ERR_CONFIG &&
                 !strcmp(bl_error_message(), "frontend.hop_length: expected an integer in [1, 65536], got 0"),
             "%s", bl_error_message());
    c.frontend.hop_length = 300;
    c.frontend.mel.scale = (bl_mel_scale)7;
    BL_CHECK(bl_config_validate(&c) == BL_ERR_CONFIG &&
                 !strcmp(bl_error_message(), "frontend.mel.scale: expected one of slaney, htk, got 7"),
             "%s", bl_error_message());
    c.frontend.mel.scale = BL_MEL_HTK;
    free(c.output.dir);
    c.output.dir = NULL;
    BL_CHECK(bl_config_validate(&c) == BL_ERR_CONFIG &&
                 !strcmp(bl_error_message(), "output.dir: expected a non-empty string, got null"),
             "%s", bl_error_message());
    bl_config_free(&c);
}

static void test_set(void) {
    bl_config c;
    BL_CHECK(load("frontend:\n  n_fft: 2048\n", &c) == BL_OK, "load");
    BL_CHECK(bl_config_set(&c, "frontend.mel.n_mels=128") == BL_OK && c.frontend.mel.n_mels == 128,
             "n_mels: %s", bl_error_message());
    BL_CHECK(bl_config_set(&c, " runtime.threads = 4 ") == BL_OK && c.runtime.threads == 4,
             "spaces: %s", bl_error_message());
    BL_CHECK(bl_config_set(&c, "output.clips.enabled=on") == BL_OK && c.output.clips_enabled, "bool");
    BL_CHECK(bl_config_set(&c, "frontend.compression.type=pcen") == BL_OK &&
                 c.frontend.compression.type == BL_COMP_PCEN, "enum");
    BL_CHECK(bl_config_set(&c, "events.threshold=0.9") == BL_OK && c.events.threshold == 0.9, "double");
    BL_CHECK(bl_config_set(&c, "model=\"my model # 1\"") == BL_OK && !strcmp(c.model, "my model # 1"),
             "quoted string: %s", c.model);
    BL_CHECK(bl_config_set(&c, "pooling.aggregates=[max, p95]") == BL_OK && c.pooling.n_aggregates == 2 &&
                 !strcmp(c.pooling.aggregates[1], "p95"), "list");
    BL_CHECK(bl_config_set(&c, "pooling.aggregates=mean") == BL_OK && c.pooling.n_aggregates == 1 &&
                 !strcmp(c.pooling.aggregates[0], "mean"), "one-item list");
    BL_CHECK(bl_config_set(&c, "frontend.mel={n_mels: 32, scale: htk}") == BL_OK &&
                 c.frontend.mel.n_mels == 32 && c.frontend.mel.scale == BL_MEL_HTK, "section");
    BL_CHECK(bl_config_set(&c, "sources=[a.wav, {path: b.wav, start: 60}]") == BL_OK && c.n_sources == 2 &&
                 !strcmp(c.sources[1].start, "60"), "sources: %s", bl_error_message());
    BL_CHECK(bl_config_set(&c, "sources=one.wav") == BL_OK && c.n_sources == 1, "one source");
    BL_CHECK(c.frontend.n_fft == 2048, "file value kept");

    EXPECT_SET_ERR(&c, "frontend.n_fft=abc",
                   "--set frontend.n_fft=abc: frontend.n_fft: expected an integer in [16, 65536], got \"abc\"");
    BL_CHECK(c.frontend.n_fft == 2048, "a failed --set changes nothing");
    EXPECT_SET_ERR(&c, "frontend.hop_lenght=3",
                   "--set frontend.hop_lenght=3: frontend.hop_lenght: unknown key (did you mean "
                   "'frontend.hop_length'?)");
    EXPECT_SET_ERR(&c, "fronted.n_fft=3",
                   "--set fronted.n_fft=3: fronted.n_fft: unknown key (did you mean 'frontend.n_fft'?)");
    EXPECT_SET_ERR(&c, "frontend.n_fft", "--set frontend.n_fft: expected KEY=VALUE, e.g. --set frontend.n_mels=128");
    EXPECT_SET_ERR(&c, "=3", "--set =3: no key before '=', e.g. --set frontend.n_mels=128");
    EXPECT_SET_ERR(&c, "model=", "--set model=: model: expected a non-empty string, got null");
    EXPECT_SET_ERR(&c, "model=[a",
                   "--set model=[a: the value is not valid YAML: did not find expected ',' or ']' "
                   "(quote it, e.g. --set 'model=\"a b\"')");
    EXPECT_SET_ERR(&c, "frontend=3",
                   "--set frontend=3: frontend: expected a mapping with the keys sample_rate, n_fft, "
                   "win_length, hop_length, window, center, pad_mode, power, mel, compression, got \"3\"");
    EXPECT_SET_ERR(&c, "sources[0].path=x",
                   "--set sources[0].path=x: sources[0].path: unknown key (see `baleen config keys`)");
    EXPECT_SET_ERR(&c, "pooling.aggregates=[max, p100]",
                   "--set pooling.aggregates=[max, p100]: pooling.aggregates[1]: expected max, mean, pNN "
                   "(NN 1..99) or topK_mean (K >= 1), e.g. p90, top3_mean, got \"p100\"");

    /* validation points at the --set that caused the problem */
    BL_CHECK(bl_config_set(&c, "frontend.win_length=4096") == BL_OK, "set win_length");
    BL_CHECK(bl_config_validate(&c) == BL_ERR_CONFIG &&
                 !strcmp(bl_error_message(), "--set frontend.win_length=4096: frontend.win_length: must "
                                             "be <= frontend.n_fft (2048), got 4096"),
             "%s", bl_error_message());
    bl_config_free(&c);

    bl_config z = {0};
    BL_CHECK(bl_config_set(&z, "model=x") == BL_ERR_INVALID_ARG, "uninitialised config refused");
}

static void test_round_trips(void) {
    static const char *const tricky[] = {
        "plain/path.wav", "with space", "quote \" and backslash \\", "line\nbreak", "tab\there",
        "caf\xC3\xA9 \xE2\x82\xAC", "yes", "No", "null", "~", "123", "1e3", "0x10", " lead", "trail ",
        "-dash", "*star", "&amp", "!bang", "#hash", "a #b", "a: b", "a:b", "[x]", "{y}", "%pct", "@at",
        "`tick", "ctl\x01\x1f\x7f", "nel\xC2\x85", "c1\xC2\x9F", "ls\xE2\x80\xA8ps\xE2\x80\xA9",
        "bom\xEF\xBB\xBF", "s3://bucket/key.wav", "2018-11-01T03:00:00Z", "'single'", ">fold", "|lit",
        "?q", ",comma", "end:", "very long xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"};
    for (size_t i = 0; i < sizeof tricky / sizeof tricky[0]; i++) {
        bl_config c;
        bl_config_init_defaults(&c);
        free(c.model);
        c.model = strdup(tricky[i]);
        c.sources = calloc(1, sizeof *c.sources);
        c.n_sources = 1;
        c.sources[0].path = strdup(tricky[i]);
        c.sources[0].time_pattern = strdup(tricky[i]);
        char label[80];
        snprintf(label, sizeof label, "string %zu", i);
        CHECK_ROUND_TRIP(&c, label);
        bl_config_free(&c);
    }
    /* values in range of the keys they go to: a dump must load back, so it is range-checked */
    static const double nums[] = {0.1, 1.0 / 3.0, 1e-300, 5e-324, 86399.99999999999, 0.35, 1e-4,
                                  12345.678901234567, 2.5e-5};
    for (size_t i = 0; i < sizeof nums / sizeof nums[0]; i++) {
        bl_config c;
        bl_config_init_defaults(&c);
        c.events.min_gap_seconds = nums[i];
        if (nums[i] <= 1) c.frontend.compression.eps = nums[i];
        char label[80];
        snprintf(label, sizeof label, "number %.17g", nums[i]);
        CHECK_ROUND_TRIP(&c, label);
        bl_config_free(&c);
    }
    bl_config c;
    bl_config_init_defaults(&c);
    for (size_t i = 0; i < c.pooling.n_aggregates; i++) free(c.pooling.aggregates[i]);
    c.pooling.n_aggregates = 0;
    CHECK_ROUND_TRIP(&c, "empty aggregates");
    bl_config_free(&c);
}

/* docs/config.md embeds the exact output of bl_config_write_keys_markdown. */
static void test_docs_table(void) {
    const char *path = bl_test_source_path("docs/config.md");
    char *doc = bl_test_read_file(path, NULL);
    BL_CHECK(doc != NULL, "cannot read %s", path);
    if (!doc) return;
    char *table = NULL;
    size_t tlen = 0;
    FILE *m = open_memstream(&table, &tlen);
    BL_CHECK(bl_config_write_keys_markdown(m) == BL_OK, "markdown");
    fclose(m);
    static const char begin[] = "<!-- BEGIN KEYS -->\n", end[] = "<!-- END KEYS -->";
    char *b = strstr(doc, begin);
    char *e = b ? strstr(b, end) : NULL;
    BL_CHECK(b && e, "docs/config.md lacks the <!-- BEGIN KEYS --> / <!-- END KEYS --> markers");
    if (b && e) {
        b += sizeof begin - 1;
        bool same = (size_t)(e - b) == tlen && !memcmp(b, table, tlen);
        BL_CHECK(same,
                 "docs/config.md's key table differs from the code; regenerate it with "
                 "`baleen config keys --markdown` and paste it between the markers");
    }
    /* every key appears, and no cell breaks the table */
    for (const char *line = table; line && *line;) {
        const char *nl = strchr(line, '\n');
        size_t bars = 0;
        for (const char *p = line; p < nl; p++) bars += *p == '|';
        BL_CHECK(bars == 5, "a key table row has %zu '|': %.*s", bars, (int)(nl - line), line);
        line = nl + 1;
    }
    free(table);
    free(doc);
}

static void test_files(void) {
    bl_config c;
    bl_status s = bl_config_load_file("/nonexistent/x.yaml", &c);
    BL_CHECK(s == BL_ERR_CONFIG && !strcmp(bl_error_message(), "config /nonexistent/x.yaml: no such file"),
             "%s: %s", bl_errname(s), bl_error_message());
    bl_config_free(&c);

    const char *dir = bl_test_tmpdir("config");
    BL_CHECK(dir != NULL, "tmpdir");
    if (!dir) return;
    char path[600];
    snprintf(path, sizeof path, "%s/demo.yaml", dir);
    FILE *f = fopen(path, "w");
    fputs("model: m\nfrontend:\n  hop_length: 0\n", f);
    fclose(f);
    s = bl_config_load_file(path, &c);
    char want[800];
    snprintf(want, sizeof want, "%s:3:15: frontend.hop_length: expected an integer in [1, 65536], got \"0\"", path);
    BL_CHECK(s == BL_ERR_CONFIG && !strcmp(bl_error_message(), want), "%s", bl_error_message());
    bl_config_free(&c);

    f = fopen(path, "w");
    fputs(k_full, f);
    fclose(f);
    s = bl_config_load_file(path, &c);
    BL_CHECK(s == BL_OK && !strcmp(c.origin, path) && c.frontend.n_fft == 2048, "%s", bl_error_message());
    bl_config_free(&c);
    s = bl_config_load_file(dir, &c); /* a directory is not a config */
    BL_CHECK(s == BL_ERR_CONFIG && strstr(bl_error_message(), "is a folder"), "%s", bl_error_message());
    bl_config_free(&c);
    remove(path);
    remove(dir);
}

static void test_key_text(void) {
    char *text = NULL;
    size_t len = 0;
    FILE *m = open_memstream(&text, &len);
    BL_CHECK(bl_config_write_keys_text(m) == BL_OK, "keys text");
    fclose(m);
    static const char *const some[] = {"frontend.mel.n_mels\n    int [1, 1024], default 64\n",
                                       "sources[].path\n    string, required\n",
                                       "runtime.backend\n    one of auto, cpu, cuda, default auto\n"};
    for (size_t i = 0; i < 3; i++) BL_CHECK(strstr(text, some[i]) != NULL, "missing: %s", some[i]);
    free(text);
}

/* configs/example-full.yaml shows every key, at its default except sources. */
static void test_example_full(void) {
    const char *path = bl_test_source_path("configs/example-full.yaml");
    bl_config c, def;
    bl_status s = bl_config_load_file(path, &c);
    BL_CHECK(s == BL_OK, "%s", bl_error_message());
    BL_CHECK(s != BL_OK || bl_config_validate(&c) == BL_OK, "%s", bl_error_message());
    BL_CHECK(c.n_sources >= 2, "the example shows sources");
    bl_config_init_defaults(&def);
    bl_config_free(&c);
    s = bl_config_load_file(path, &c);
    if (s == BL_OK) {
        bl_config_set(&c, "sources=[]");
        BL_CHECK(bl_config_equal(&c, &def), "example-full.yaml should hold the defaults (but sources)");
    }
    /* every key's name appears as "name:" in the file */
    FILE *f = fopen(path, "rb");
    char text[16384];
    size_t n = f ? fread(text, 1, sizeof text - 1, f) : 0;
    if (f) fclose(f);
    text[n] = '\0';
    char *keys = NULL;
    size_t klen = 0;
    FILE *m = open_memstream(&keys, &klen);
    bl_config_write_keys_text(m);
    fclose(m);
    for (char *line = keys; *line;) {
        char *nl = strchr(line, '\n');
        *nl = '\0';
        if (line[0] != ' ') {
            const char *dot = strrchr(line, '.');
            char want[96];
            snprintf(want, sizeof want, "%s:", dot ? dot + 1 : line);
            BL_CHECK(strstr(text, want) != NULL, "configs/example-full.yaml lacks the key %s", line);
        }
        line = nl + 1;
    }
    free(keys);
    bl_config_free(&c);
    bl_config_free(&def);
}

int main(void) {
    test_defaults();
    test_load_every_type();
    test_empty_inputs();
    test_type_errors();
    test_aggregate_names();
    test_unknown_keys();
    test_structure_errors();
    test_validation();
    test_set();
    test_round_trips();
    test_docs_table();
    test_files();
    test_key_text();
    test_example_full();
    return bl_test_finish("test_config");
}
