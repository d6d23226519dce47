/* test_card.c — model cards (models/card.h): loading a valid card, every kind of error with
 * its exact file:line:column text, the frontend keys behaving exactly as the config's,
 * dump → load round trips, the front end resolved from card + config file + --set, the
 * checks against a real ONNX graph (tests/data/models/small_cnn.onnx), and docs/models.md
 * against the code.
 */
#include <stdio.h>  /* open_memstream: dumps and key lists into memory */
#include <stdlib.h> /* free, realloc */
#include <string.h> /* strcmp, strstr, memcmp */

#include "core/config.h"      /* the config whose frontend keys cards share */
#include "models/card.h"      /* the module under test */
#include "models/onnx_load.h" /* bl_model_load: a real graph for the shape checks */
#include "testutil.h"         /* BL_CHECK, bl_test_source_path */

/* The required keys; tests append or prepend what they need. */
#define REQ "name: m\nversion: '1'\nsample_rate: 16000\nwindow_frames: 128\nhop_frames: 64\nclasses: [a]\nlicence: MIT\n"

static bl_status load(const char *text, bl_model_card *c) {
    return bl_card_load_string(text, strlen(text), "model.yaml", c);
}

static void expect_err_(const char *text, const char *want, bool exact, int line) {
    bl_model_card c;
    bl_status s = load(text, &c);
    const char *got = bl_error_message();
    if (s != BL_ERR_CONFIG) {
        fprintf(stderr, "test_card.c:%d: expected BL_ERR_CONFIG, got %s (%s) for:\n%s\n", line, bl_errname(s),
                got, text);
        bl_test_failures++;
    } else if (exact ? strcmp(got, want) != 0 : strstr(got, want) == NULL) {
        fprintf(stderr, "test_card.c:%d: message mismatch\n  want%s: %s\n  got:  %s\n", line,
                exact ? "" : " (part)", want, got);
        bl_test_failures++;
    }
    bl_card_free(&c);
}
#define EXPECT_ERR(text, want) expect_err_(text, want, true, __LINE__)
#define EXPECT_ERR_PART(text, want) expect_err_(text, want, false, __LINE__)

static char *card_dump_text(const bl_model_card *c) {
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    if (!f) return NULL;
    bl_status s = bl_card_dump(c, f);
    fclose(f);
    if (s != BL_OK) {
        free(buf);
        return NULL;
    }
    return buf;
}

/* Dump, load the dump, dump again: both dumps identical. */
static void check_round_trip_(const bl_model_card *c, const char *what, int line) {
    char *d1 = card_dump_text(c);
    BL_CHECK(d1 != NULL, "%s: dump failed: %s", what, bl_error_message());
    if (!d1) return;
    bl_model_card back;
    bl_status s = bl_card_load_string(d1, strlen(d1), "dump.yaml", &back);
    if (s != BL_OK) {
        fprintf(stderr, "test_card.c:%d: %s: the dump does not load: %s\n%s\n", line, what, bl_error_message(), d1);
        bl_test_failures++;
    } else {
        char *d2 = card_dump_text(&back);
        if (!d2 || strcmp(d1, d2)) {
            fprintf(stderr, "test_card.c:%d: %s: second dump differs\n--- 1:\n%s--- 2:\n%s", line, what, d1,
                    d2 ? d2 : "?");
            bl_test_failures++;
        }
        free(d2);
    }
    bl_card_free(&back);
    free(d1);
}
#define CHECK_ROUND_TRIP(c, what) check_round_trip_(c, what, __LINE__)

/* ---- tests --------------------------------------------------------------------------- */

static void test_valid(void) {
    bl_model_card c;
    const char *dir = bl_test_source_path("tests/data/cards/small_cnn");
    char dirpath[1024];
    snprintf(dirpath, sizeof dirpath, "%s", dir);
    bl_status s = bl_card_load(dirpath, &c);
    BL_CHECK(s == BL_OK, "load %s: %s", dirpath, bl_error_message());
    if (s != BL_OK) {
        bl_card_free(&c);
        return;
    }
    BL_CHECK(strstr(c.path, "cards/small_cnn/model.yaml") != NULL, "path %s", c.path);
    BL_CHECK(!strcmp(c.name, "small-cnn") && !strcmp(c.version, "0.1.0"), "name/version");
    BL_CHECK(c.description && strstr(c.description, "tiny"), "description");
    BL_CHECK(c.sample_rate == 8000 && c.frontend.sample_rate == 8000, "sample_rate %d/%d", c.sample_rate,
             c.frontend.sample_rate);
    BL_CHECK(c.frontend.n_fft == 256 && c.frontend.hop_length == 80 && c.frontend.mel.n_mels == 16 &&
                 c.frontend.mel.fmin == 50 && c.frontend.compression.type == BL_COMP_DB,
             "frontend keys");
    /* keys the card leaves out take the config's documented defaults */
    bl_config def;
    bl_config_init_defaults(&def);
    BL_CHECK(c.frontend.win_length == def.frontend.win_length && c.frontend.power == def.frontend.power &&
                 c.frontend.center == def.frontend.center && c.frontend.pad_mode == def.frontend.pad_mode &&
                 c.frontend.mel.scale == def.frontend.mel.scale &&
                 c.frontend.compression.amin == def.frontend.compression.amin,
             "frontend defaults");
    bl_config_free(&def);
    BL_CHECK(c.input.name && !strcmp(c.input.name, "x") && c.input.layout == BL_LAYOUT_NCHW, "input");
    BL_CHECK(c.window_frames == 16 && c.hop_frames == 8, "window/hop");
    BL_CHECK(c.n_classes == 3 && !strcmp(c.classes[0], "upcall") && !strcmp(c.classes[1], "song_unit") &&
                 !strcmp(c.classes[2], "click"),
             "classes");
    BL_CHECK(c.output_activation == BL_ACT_SIGMOID, "activation");
    BL_CHECK(c.licence && !strcmp(c.licence, "MIT"), "license alias → licence");
    BL_CHECK(c.trained_on && c.authors && c.url && !strcmp(c.url, "https://example.org/small-cnn"), "strings");
    BL_CHECK(c.metrics && !strcmp(c.metrics, "{held_out_seeds: [101, 102], upcall: {precision: 0.5, "
                                             "recall: 0.25}, note: \"not a real model\"}"),
             "metrics: %s", c.metrics ? c.metrics : "null");
    CHECK_ROUND_TRIP(&c, "small_cnn card");
    char *d = card_dump_text(&c);
    BL_CHECK(d && strstr(d, "\nlicence: MIT\n") && !strstr(d, "license") && strstr(d, "\n  sample_rate: 8000\n"),
             "dump:\n%s", d ? d : "?");
    free(d);
    bl_card_free(&c);
    bl_card_free(&c); /* twice is harmless */

    /* the .yaml path itself, and a minimal card */
    char yaml[1100];
    snprintf(yaml, sizeof yaml, "%s/model.yaml", dirpath);
    BL_CHECK(bl_card_load(yaml, &c) == BL_OK, "%s", bl_error_message());
    bl_card_free(&c);
    s = load(REQ, &c);
    BL_CHECK(s == BL_OK, "minimal: %s", bl_error_message());
    if (s == BL_OK) {
        BL_CHECK(!c.description && !c.input.name && !c.metrics && !c.trained_on && !c.authors && !c.url,
                 "optional keys default to null");
        BL_CHECK(c.output_activation == BL_ACT_SIGMOID && c.frontend.sample_rate == 16000, "defaults");
        CHECK_ROUND_TRIP(&c, "minimal card");
    }
    bl_card_free(&c);
    /* a one-item list may be written as a scalar; softmax and none */
    BL_CHECK(load(REQ "output_activation: softmax\n", &c) == BL_OK && c.output_activation == BL_ACT_SOFTMAX,
             "%s", bl_error_message());
    bl_card_free(&c);
    /* metrics is free-form: nested keys are never "unknown", odd scalars survive round trips */
    s = load(REQ "metrics:\n  - {recall: 0.9, 'odd key': \"a, b\", n_mels: [x, {y: ~}]}\n  - yes\n  - ''\n"
                 "  - -1.5e-3\n  - \"yes\"\n  - 'a: b'\n  - {}\n",
             &c);
    BL_CHECK(s == BL_OK, "free-form metrics: %s", bl_error_message());
    if (s == BL_OK) {
        BL_CHECK(c.metrics && !strcmp(c.metrics, "[{recall: 0.9, \"odd key\": \"a, b\", n_mels: [x, {y: null}]}, yes, "
                                                 "\"\", -1.5e-3, \"yes\", \"a: b\", {}]"),
                 "metrics text: %s", c.metrics ? c.metrics : "null");
        CHECK_ROUND_TRIP(&c, "odd metrics");
    }
    bl_card_free(&c);
    BL_CHECK(load(REQ "metrics: ~\n", &c) == BL_OK && c.metrics == NULL, "null metrics");
    bl_card_free(&c);
}

static void test_errors(void) {
    /* missing required keys: each one in turn */
    static const char *const req[] = {"name", "version", "sample_rate", "window_frames", "hop_frames",
                                      "classes", "licence"};
    static const char *const want[] = {
        "model.yaml: name: required key missing; expected a non-empty string (short name of the model, e.g. "
        "`whalecall-small`)",
        "model.yaml: version: required key missing; expected a non-empty string (version of the model and "
        "its card, e.g. `1.0.0`)",
        "model.yaml: sample_rate: required key missing; expected an integer in [1000, 1000000] (Hz: the rate "
        "the model was trained at; audio is resampled to it)",
        "model.yaml: window_frames: required key missing; expected an integer in [1, 1000000] (spectrogram "
        "frames per model window (the input's last dimension))",
        "model.yaml: hop_frames: required key missing; expected an integer in [1, 1000000] (frames between "
        "the starts of successive windows (<= window_frames))",
        "model.yaml: classes: required key missing; expected a list of strings (class "
        "names in the order of the model's outputs (at least one, each once))",
        "model.yaml: licence: required key missing; expected a non-empty string (licence of the weights, "
        "e.g. `MIT` or `CC-BY-4.0`)",
    };
    for (size_t i = 0; i < sizeof req / sizeof req[0]; i++) {
        char text[512] = "", line[64];
        const char *p = REQ;
        while (*p) { /* REQ without the line of key i */
            const char *nl = strchr(p, '\n');
            snprintf(line, sizeof line, "%.*s", (int)(nl - p + 1), p);
            if (strncmp(line, req[i], strlen(req[i])) || line[strlen(req[i])] != ':') strcat(text, line);
            p = nl + 1;
        }
        EXPECT_ERR(text, want[i]);
    }
    /* wrong types and ranges */
    EXPECT_ERR("window_frames: 0\n", "model.yaml:1:16: window_frames: expected an integer in [1, 1000000], got \"0\"");
    EXPECT_ERR("name: [a]\n", "model.yaml:1:7: name: expected a non-empty string, got a list");
    EXPECT_ERR(REQ "output_activation: relu\n",
               "model.yaml:8:20: output_activation: expected one of sigmoid, softmax, none, got \"relu\"");
    EXPECT_ERR(REQ "input: {layout: NHWC}\n", "model.yaml:8:17: input.layout: expected one of NCHW, got \"NHWC\"");
    EXPECT_ERR(REQ "input: x\n", "model.yaml:8:8: input: expected a mapping with the keys name, layout, got \"x\"");
    EXPECT_ERR(REQ "frontend:\n  hop_length: -3\n",
               "model.yaml:9:15: frontend.hop_length: expected an integer in [1, 65536], got \"-3\"");
    EXPECT_ERR("classes: [a, \"b\\tc\"]\n",
               "model.yaml:1:14: classes[1]: expected a non-empty class name without tabs, line breaks or "
               "surrounding spaces, got \"b\\x09c\"");
    /* unknown keys, with suggestions from the card's table */
    EXPECT_ERR("window_frame: 128\n", "model.yaml:1:1: window_frame: unknown key (did you mean 'window_frames'?)");
    EXPECT_ERR("n_mels: 64\n", "model.yaml:1:1: n_mels: unknown key (did you mean 'frontend.mel.n_mels'?)");
    EXPECT_ERR("frontend: {mel: {nmels: 3}}\n",
               "model.yaml:1:18: frontend.mel.nmels: unknown key (did you mean 'frontend.mel.n_mels'?)");
    EXPECT_ERR("input: {nam: x}\n", "model.yaml:1:9: input.nam: unknown key (did you mean 'input.name'?)");
    EXPECT_ERR("zzzzzzzzzzzz: 1\n",
               "model.yaml:1:1: zzzzzzzzzzzz: unknown key; the keys at the top level are: name, version, "
               "description, sample_rate, frontend, input, window_frames, hop_frames, classes, "
               "output_activation, licence, license, trained_on, metrics, authors, url");
    EXPECT_ERR("nam: x\n", "model.yaml:1:1: nam: unknown key (did you mean 'name'?)");
    /* structure */
    EXPECT_ERR("- a\n", "model.yaml:1:1: the top level must be a mapping of keys (e.g. `name: ...`), got a list");
    EXPECT_ERR("name: a\n---\nname: b\n", "model.yaml:2:1: a second YAML document ('---'); a model card is a "
                                          "single document");
    EXPECT_ERR("name: a\x01\n", "model.yaml:1:8: control characters are not allowed (byte 0x01); a model card "
                                "must be UTF-8 text");
    EXPECT_ERR(REQ "license: BSD\n",
               "model.yaml:8:1: license: already given as 'licence' at line 7, column 1 (they are one key)");
    EXPECT_ERR(REQ "version: 2\n", "model.yaml:8:1: version: duplicate key (first given at line 2, column 1)");
    /* sample_rate against frontend.sample_rate */
    EXPECT_ERR(REQ "frontend: {sample_rate: 22050}\n",
               "model.yaml:8:25: frontend.sample_rate: must equal sample_rate (16000, model.yaml:3:14), got "
               "22050; give the rate once, as sample_rate");
    bl_model_card c;
    BL_CHECK(load(REQ "frontend: {sample_rate: 16000}\n", &c) == BL_OK, "equal rates: %s", bl_error_message());
    bl_card_free(&c);
    /* classes: unique, non-empty */
    EXPECT_ERR("classes: [a, b, a]\n", "model.yaml:1:17: classes[2]: \"a\" is listed twice (items 0 and 2)");
    EXPECT_ERR(REQ "classes: []\n", "model.yaml:8:1: classes: duplicate key (first given at line 6, column 1)");
    EXPECT_ERR("name: m\nversion: '1'\nsample_rate: 16000\nwindow_frames: 128\nhop_frames: 64\nclasses: []\n"
               "licence: MIT\n",
               "model.yaml:6:10: classes: needs at least one item");
    /* cross-field rules: hop within the window, the front end's own rules with the card's rate */
    EXPECT_ERR("name: m\nversion: '1'\nsample_rate: 16000\nwindow_frames: 128\nhop_frames: 129\nclasses: [a]\n"
               "licence: MIT\n",
               "model.yaml:5:13: hop_frames: must be <= window_frames (128) so that every frame is scored, got 129");
    EXPECT_ERR("name: m\nversion: '1'\nsample_rate: 8000\nwindow_frames: 128\nhop_frames: 64\nclasses: [a]\n"
               "licence: MIT\nfrontend: {mel: {fmax: 5000}}\n",
               "model.yaml:8:24: frontend.mel.fmax: must be <= frontend.sample_rate/2 (4000 Hz), got 5000");
    EXPECT_ERR("name: m\nversion: '1'\nsample_rate: 8000\nwindow_frames: 128\nhop_frames: 64\nclasses: [a]\n"
               "licence: MIT\nfrontend: {mel: {fmin: 4000}}\n",
               "model.yaml:8:24: frontend.mel.fmin: must be < frontend.mel.fmax (4000 Hz, sample_rate/2), got 4000");
    EXPECT_ERR(REQ "frontend: {n_fft: 511}\n", "model.yaml:8:19: frontend.n_fft: must be even, got 511");

    /* the fixture files give the same messages, with their own names */
    static const char *const files[][2] = {
        {"missing_key.yaml", "missing_key.yaml: version: required key missing"},
        {"bad_type.yaml", "bad_type.yaml:4:16: window_frames: expected an integer in [1, 1000000], got \"many\""},
        {"unknown_key.yaml", "unknown_key.yaml:4:1: window_frame: unknown key (did you mean 'window_frames'?)"},
        {"sample_rate_mismatch.yaml",
         "sample_rate_mismatch.yaml:5:16: frontend.sample_rate: must equal sample_rate (16000, "},
        {"duplicate_classes.yaml", "duplicate_classes.yaml:9:5: classes[2]: \"upcall\" is listed twice (items 0 and 2)"},
    };
    for (size_t i = 0; i < sizeof files / sizeof files[0]; i++) {
        char rel[128];
        snprintf(rel, sizeof rel, "tests/data/cards/%s", files[i][0]);
        bl_status s = bl_card_load(bl_test_source_path(rel), &c);
        BL_CHECK(s == BL_ERR_CONFIG && strstr(bl_error_message(), files[i][1]), "%s: %s: %s", files[i][0],
                 bl_errname(s), bl_error_message());
        bl_card_free(&c);
    }
}

/* Text of `write` into a string; caller frees. */
static char *capture(bl_status (*write)(FILE *)) {
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    if (!f) return NULL;
    write(f);
    fclose(f);
    return buf;
}

/* The card's frontend keys are the config's: same reference text, same values, same errors. */
static void test_frontend_same_as_config(void) {
    char *cfg_keys = capture(bl_config_write_keys_text), *card_keys = capture(bl_card_write_keys_text);
    BL_CHECK(cfg_keys && card_keys, "key lists");
    if (!cfg_keys || !card_keys) return;
    size_t n_fe = 0;
    for (char *line = cfg_keys; *line;) { /* each entry is three lines: path, type/default, doc */
        char *e = line;
        for (int k = 0; k < 3 && e; k++) e = strchr(e, '\n') ? strchr(e, '\n') + 1 : NULL;
        if (!e) break;
        if (!strncmp(line, "frontend.", 9)) {
            n_fe++;
            char entry[1024];
            snprintf(entry, sizeof entry, "%.*s", (int)(e - line), line);
            if (strncmp(line, "frontend.sample_rate\n", 21) != 0)
                BL_CHECK(strstr(card_keys, entry) != NULL, "the card lacks the config's entry:\n%s", entry);
        }
        line = e;
    }
    BL_CHECK(n_fe >= 20, "only %zu frontend keys found", n_fe);
    BL_CHECK(strstr(card_keys, "frontend.sample_rate\n    int [1000, 1000000], default same as sample_rate\n"),
             "card frontend.sample_rate entry");
    free(cfg_keys);
    free(card_keys);

    /* the same frontend text loads to the same values */
    static const char *fe =
        "frontend:\n  sample_rate: 32000\n  n_fft: 2048\n  win_length: 1600\n  hop_length: 320\n"
        "  window: hann\n  center: no\n  pad_mode: constant\n  power: 1\n"
        "  mel: {n_mels: 128, fmin: 50, fmax: 15000.5, scale: htk, norm: none}\n"
        "  compression: {type: pcen, eps: 1e-5, amin: 1.0e-8, alpha: 0.9, delta: 1.5, r: 0.25, "
        "time_constant: 0.06}\n";
    char text[2048];
    snprintf(text, sizeof text, "%sname: m\nversion: '1'\nsample_rate: 32000\nwindow_frames: 8\nhop_frames: 8\n"
                                "classes: [a]\nlicence: MIT\n", fe);
    bl_config cfg;
    bl_model_card c;
    BL_CHECK(bl_config_load_string(fe, strlen(fe), "model.yaml", &cfg) == BL_OK, "%s", bl_error_message());
    BL_CHECK(load(text, &c) == BL_OK, "%s", bl_error_message());
    BL_CHECK(!memcmp(&cfg.frontend, &c.frontend, sizeof cfg.frontend), "card and config frontends differ");
    bl_config_free(&cfg);
    bl_card_free(&c);

    /* the same bad value gives the same message, key by key */
    static const char *const bad[][2] = {
        {"n_fft: abc", "n_fft"},        {"win_length: 70000", "win_length"}, {"hop_length: 0", "hop_length"},
        {"window: hamming", "window"},  {"center: maybe", "center"},         {"pad_mode: edge", "pad_mode"},
        {"power: 0", "power"},          {"mel: {n_mels: 0}", "n_mels"},      {"mel: {fmin: -1}", "fmin"},
        {"mel: {fmax: 2e6}", "fmax"},   {"mel: {scale: bark}", "scale"},     {"mel: {norm: l2}", "norm"},
        {"compression: {type: ln}", "type"}, {"compression: {eps: 0}", "eps"},
        {"compression: {amin: 2}", "amin"},  {"compression: {alpha: 1.5}", "alpha"},
        {"compression: {delta: -1}", "delta"}, {"compression: {r: 0}", "r"},
        {"compression: {time_constant: 0}", "time_constant"}, {"sample_rate: 10", "sample_rate"},
        {"n_ftt: 3", "n_ftt"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        snprintf(text, sizeof text, "frontend: {%s}\n" REQ, bad[i][0]);
        bl_status s1 = bl_config_load_string(text, strlen(text), "model.yaml", &cfg);
        char cfg_msg[1024];
        snprintf(cfg_msg, sizeof cfg_msg, "%s", bl_error_message());
        bl_status s2 = load(text, &c);
        BL_CHECK(s1 == BL_ERR_CONFIG && s2 == BL_ERR_CONFIG && !strcmp(cfg_msg, bl_error_message()) &&
                     strstr(cfg_msg, bad[i][1]),
                 "%s:\n  config: %s\n  card:   %s", bad[i][0], cfg_msg, bl_error_message());
        bl_config_free(&cfg);
        bl_card_free(&c);
    }
}

static void test_resolve(void) {
    static const char *card_text =
        "name: m\nversion: '1'\nsample_rate: 16000\nwindow_frames: 8\nhop_frames: 4\nclasses: [a, b]\n"
        "licence: MIT\nfrontend:\n  n_fft: 512\n  hop_length: 150\n  mel: {n_mels: 32, fmax: 7000}\n"
        "  compression: {type: pcen}\n";
    bl_model_card c;
    bl_status s = load(card_text, &c);
    BL_CHECK(s == BL_OK, "%s", bl_error_message());
    if (s != BL_OK) {
        bl_card_free(&c);
        return;
    }
    bl_frontend_params fe;
    /* no config: the card's front end */
    BL_CHECK(bl_card_resolve_frontend(&c, NULL, &fe) == BL_OK && !memcmp(&fe, &c.frontend, sizeof fe), "no cfg");

    /* a config that sets nothing under frontend: the card wins over the config's defaults */
    static const char *cfg_text = "model: x\nfrontend:\n  hop_length: 300\n  power: 1\n";
    bl_config cfg;
    BL_CHECK(bl_config_load_string(cfg_text, strlen(cfg_text), "run.yaml", &cfg) == BL_OK, "%s", bl_error_message());
    BL_CHECK(bl_config_key_is_set(&cfg, "frontend.hop_length") && bl_config_key_is_set(&cfg, "frontend.power") &&
                 bl_config_key_is_set(&cfg, "model") && bl_config_key_is_set(&cfg, "frontend"),
             "set keys");
    BL_CHECK(!bl_config_key_is_set(&cfg, "frontend.n_fft") && !bl_config_key_is_set(&cfg, "frontend.mel") &&
                 !bl_config_key_is_set(&cfg, "pooling") && !bl_config_key_is_set(&cfg, "no.such.key") &&
                 !bl_config_key_is_set(&cfg, "") && !bl_config_key_is_set(NULL, "model"),
             "unset keys");
    BL_CHECK(bl_config_set(&cfg, "frontend.compression.type=db") == BL_OK, "%s", bl_error_message());
    BL_CHECK(bl_config_key_is_set(&cfg, "frontend.compression.type") &&
                 bl_config_key_is_set(&cfg, "frontend.compression"), "--set marks");
    s = bl_card_resolve_frontend(&c, &cfg, &fe);
    BL_CHECK(s == BL_OK, "%s", bl_error_message());
    /* config file: hop_length 300 (even though 300 is the config default, it was written) and
     * power; --set: compression.type; card: n_fft, n_mels, fmax; defaults elsewhere */
    BL_CHECK(fe.hop_length == 300 && fe.power == 1.0, "config file wins: hop %d power %g", fe.hop_length, fe.power);
    BL_CHECK(fe.compression.type == BL_COMP_DB, "--set wins: %d", fe.compression.type);
    BL_CHECK(fe.n_fft == 512 && fe.mel.n_mels == 32 && fe.mel.fmax == 7000 && fe.sample_rate == 16000,
             "card keys kept: n_fft %d n_mels %d fmax %g", fe.n_fft, fe.mel.n_mels, fe.mel.fmax);
    BL_CHECK(fe.compression.alpha == c.frontend.compression.alpha && fe.win_length == 0, "untouched keys");
    bl_config_free(&cfg);

    /* the model's rate and mel bands cannot be overridden; the message names both places */
    bl_config_init_defaults(&cfg);
    bl_config_set(&cfg, "frontend.sample_rate=22050");
    s = bl_card_resolve_frontend(&c, &cfg, &fe);
    BL_CHECK(s == BL_ERR_CONFIG && !strcmp(bl_error_message(),
                                           "--set frontend.sample_rate=22050: frontend.sample_rate: the model 'm' "
                                           "takes 16000 Hz audio (model.yaml:3:14: sample_rate), not 22050; remove "
                                           "frontend.sample_rate from the config: the card sets it"),
             "%s", bl_error_message());
    bl_config_free(&cfg);
    static const char *mels = "frontend:\n  mel: {n_mels: 64}\n";
    bl_config_load_string(mels, strlen(mels), "run.yaml", &cfg);
    s = bl_card_resolve_frontend(&c, &cfg, &fe);
    BL_CHECK(s == BL_ERR_CONFIG && !strcmp(bl_error_message(),
                                           "run.yaml:2:17: frontend.mel.n_mels: the model 'm' takes 32 mel bands "
                                           "(model.yaml:11:17: frontend.mel.n_mels), not 64; remove "
                                           "frontend.mel.n_mels from the config: the card sets it"),
             "%s", bl_error_message());
    bl_config_free(&cfg);
    /* a config value that breaks a rule together with the card's: named where it was set */
    static const char *nfft = "frontend: {n_fft: 256, win_length: 400}\n";
    bl_config_load_string(nfft, strlen(nfft), "run.yaml", &cfg);
    s = bl_card_resolve_frontend(&c, &cfg, &fe);
    BL_CHECK(s == BL_ERR_CONFIG &&
                 !strcmp(bl_error_message(), "run.yaml:1:36: frontend.win_length: must be <= frontend.n_fft (256), got 400"),
             "%s", bl_error_message());
    bl_config_free(&cfg);
    bl_config_init_defaults(&cfg);
    bl_config_set(&cfg, "frontend.mel.fmin=7500");
    s = bl_card_resolve_frontend(&c, &cfg, &fe);
    BL_CHECK(s == BL_ERR_CONFIG && !strcmp(bl_error_message(), "--set frontend.mel.fmin=7500: frontend.mel.fmin: "
                                                               "must be < frontend.mel.fmax (7000 Hz), got 7500"),
             "%s", bl_error_message());
    bl_config_free(&cfg);
    bl_card_free(&c);
}

static void test_graph(void) {
    bl_graph *g = NULL;
    bl_status s = bl_model_load(bl_test_source_path("tests/data/models/small_cnn.onnx"), NULL, &g);
    BL_CHECK(s == BL_OK, "small_cnn.onnx: %s", bl_error_message());
    if (s != BL_OK) return;
    bl_model_card c;
    s = bl_card_load(bl_test_source_path("tests/data/cards/small_cnn"), &c);
    BL_CHECK(s == BL_OK, "%s", bl_error_message());
    BL_CHECK(s != BL_OK || bl_card_check_graph(&c, g) == BL_OK, "the fixture fits: %s", bl_error_message());
    BL_CHECK(bl_card_input_index(&c, g) == 0, "input index");
    /* small_cnn ends with a Sigmoid: applying it again would be wrong */
    BL_CHECK(!bl_card_activation_needed(&c, g), "sigmoid already there");
    c.output_activation = BL_ACT_SOFTMAX;
    BL_CHECK(bl_card_activation_needed(&c, g), "softmax is not");
    c.output_activation = BL_ACT_NONE;
    BL_CHECK(!bl_card_activation_needed(&c, g), "none");
    bl_card_free(&c);

    /* mismatches, each with the card's key and the graph's shape */
    static const char *const cases[][2] = {
        {"frontend: {mel: {n_mels: 32}}\nwindow_frames: 16\nhop_frames: 8\nclasses: [a, b, c]\n",
         "model.yaml:1:26: frontend.mel.n_mels: the card says 32, but input 'x' of %s is Nx1x16x16 (n_mels is "
         "dimension 2 of [N, 1, n_mels, window_frames])"},
        {"frontend: {mel: {n_mels: 16}}\nwindow_frames: 32\nhop_frames: 8\nclasses: [a, b, c]\n",
         "model.yaml:2:16: window_frames: the card says 32, but input 'x' of %s is Nx1x16x16 (window_frames is "
         "dimension 3 of [N, 1, n_mels, window_frames])"},
        {"frontend: {mel: {n_mels: 16}}\nwindow_frames: 16\nhop_frames: 8\nclasses: [a, b]\n",
         "model.yaml:4:10: classes: the card names 2 classes, but output 'y' of %s is Nx3 (one score per class)"},
        {"frontend: {mel: {n_mels: 16}}\nwindow_frames: 16\nhop_frames: 8\nclasses: [a, b, c]\ninput: {name: z}\n",
         "model.yaml:5:15: input.name: %s has no input 'z'; its inputs are 'x'"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char text[512], want[512];
        snprintf(text, sizeof text, "%sname: m\nversion: '1'\nsample_rate: 16000\nlicence: MIT\n", cases[i][0]);
        snprintf(want, sizeof want, cases[i][1], g->path);
        s = load(text, &c);
        BL_CHECK(s == BL_OK, "case %zu: %s", i, bl_error_message());
        s = bl_card_check_graph(&c, g);
        BL_CHECK(s == BL_ERR_CONFIG && !strcmp(bl_error_message(), want), "case %zu:\n  want: %s\n  got:  %s", i,
                 want, bl_error_message());
        bl_card_free(&c);
    }
    bl_graph_free(g);

    /* a two-channel input is not NCHW with one channel */
    s = bl_model_load(bl_test_source_path("tests/data/models/view_net.onnx"), NULL, &g);
    BL_CHECK(s == BL_OK, "view_net.onnx: %s", bl_error_message());
    if (s == BL_OK) {
        load("frontend: {mel: {n_mels: 8}}\nwindow_frames: 16\nhop_frames: 8\nclasses: [a, b, c, d, e]\n"
             "name: m\nversion: '1'\nsample_rate: 16000\nlicence: MIT\n", &c);
        s = bl_card_check_graph(&c, g);
        BL_CHECK(s == BL_ERR_CONFIG && strstr(bl_error_message(), "model.yaml: input.layout: NCHW means [N, 1, "
                                                                  "n_mels, window_frames], but input 'x' of ") &&
                     strstr(bl_error_message(), " is Nx2x8x16"),
                 "%s", bl_error_message());
        bl_card_free(&c);
        bl_graph_free(g);
    }
}

static void test_find(void) {
    char out[1024];
    const char *dir = bl_test_source_path("tests/data/cards/small_cnn");
    char d[1024];
    snprintf(d, sizeof d, "%s/", dir);
    BL_CHECK(bl_card_find(d, out, sizeof out) == BL_OK && strstr(out, "small_cnn/model.yaml") &&
                 !strstr(out, "//"), "dir/: %s", bl_error_message());
    bl_status s = bl_card_find(bl_test_source_path("tests/data/models"), out, sizeof out);
    BL_CHECK(s == BL_ERR_NOT_FOUND && strstr(bl_error_message(), "models/model.yaml' does not exist"), "%s",
             bl_error_message());
    s = bl_card_find(bl_test_source_path("tests/data/models/small_cnn.onnx"), out, sizeof out);
    BL_CHECK(s == BL_ERR_NOT_FOUND && strstr(bl_error_message(), "give the directory"), "%s", bl_error_message());
    s = bl_card_find(bl_test_source_path("tests/data/models/ext/model.onnx"), out, sizeof out);
    BL_CHECK(s == BL_ERR_NOT_FOUND && strstr(bl_error_message(), "ext/model.yaml' does not exist"), "%s",
             bl_error_message());
    bl_model_card c;
    s = bl_card_load("/nonexistent/model", &c);
    BL_CHECK(s == BL_ERR_NOT_FOUND && !strcmp(bl_error_message(), "no model card: '/nonexistent/model': No such "
                                                                  "file or directory"), "%s", bl_error_message());
    bl_card_free(&c);
}

/* docs/models.md embeds the exact output of bl_card_write_keys_markdown. */
static void test_docs_table(void) {
    const char *path = bl_test_source_path("docs/models.md");
    char *doc = bl_test_read_file(path, NULL);
    BL_CHECK(doc != NULL, "cannot read %s", path);
    if (!doc) return;
    char *table = capture(bl_card_write_keys_markdown);
    static const char begin[] = "<!-- BEGIN CARD KEYS -->\n", end[] = "<!-- END CARD KEYS -->";
    char *b = strstr(doc, begin);
    char *e = b ? strstr(b, end) : NULL;
    BL_CHECK(b && e, "docs/models.md lacks the <!-- BEGIN CARD KEYS --> / <!-- END CARD KEYS --> markers");
    if (b && e && table) {
        b += sizeof begin - 1;
        BL_CHECK((size_t)(e - b) == strlen(table) && !memcmp(b, table, strlen(table)),
                 "docs/models.md's card key table differs from the code; regenerate it with "
                 "bl_card_write_keys_markdown and paste it between the markers");
    }
    for (const char *line = table; line && *line;) {
        const char *nl = strchr(line, '\n');
        size_t bars = 0;
        for (const char *p = line; p < nl; p++) bars += *p == '|';
        BL_CHECK(bars == 5, "a card key table row has %zu '|': %.*s", bars, (int)(nl - line), line);
        line = nl + 1;
    }
    BL_CHECK(table && strstr(table, "| `name` | string | (required) |") &&
                 strstr(table, "| `license` | string | (alias) |") &&
                 strstr(table, "| `frontend.sample_rate` | int [1000, 1000000] | same as `sample_rate` |"),
             "card table rows:\n%s", table ? table : "?");
    free(table);
    /* the example card in the section loads */
    char *sec = strstr(doc, "## Model cards");
    char *y0 = sec ? strstr(sec, "```yaml\n") : NULL;
    char *y1 = y0 ? strstr(y0 + 8, "```") : NULL;
    BL_CHECK(y0 && y1, "docs/models.md: no ```yaml example in \"Model cards\"");
    if (y0 && y1) {
        bl_model_card c;
        bl_status s = bl_card_load_string(y0 + 8, (size_t)(y1 - y0 - 8), "docs/models.md example", &c);
        BL_CHECK(s == BL_OK && c.n_classes == 2 && c.metrics, "the example card: %s", bl_error_message());
        bl_card_free(&c);
    }
    free(doc);
}

/* Every seed of the fuzz corpus named *.yaml but the error seeds is a valid card. */
static void test_corpus_seeds(void) {
    static const char *const good[] = {"full.yaml", "minimal.yaml", "metrics.yaml", "frontend.yaml"};
    for (size_t i = 0; i < sizeof good / sizeof good[0]; i++) {
        char rel[128];
        snprintf(rel, sizeof rel, "tests/fuzz/corpus/card/%s", good[i]);
        bl_model_card c;
        bl_status s = bl_card_load(bl_test_source_path(rel), &c);
        BL_CHECK(s == BL_OK, "%s: %s", good[i], bl_error_message());
        if (s == BL_OK) CHECK_ROUND_TRIP(&c, good[i]);
        bl_card_free(&c);
    }
}

int main(void) {
    test_valid();
    test_errors();
    test_frontend_same_as_config();
    test_resolve();
    test_graph();
    test_find();
    test_docs_table();
    test_corpus_seeds();
    return bl_test_finish("test_card");
}
