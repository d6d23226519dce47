/* config_keys.c — the table of every configuration key (DESIGN §7) and what is derived from
 * any key table: lookups, "did you mean" hints, type and value formatting, the key
 * reference (`baleen config keys`, the tables in docs/config.md and docs/models.md),
 * validation (per key, and the front end's cross-field rules shared by configs and model
 * cards), and the table walks that read a whole document: dump and comparison.
 *
 * Owns: the constant config key table. The defaults here are the documented defaults; they
 * match frontend.h's bl_frontend_params_default() (win_length 0 and fmax 0 mean n_fft and
 * sample_rate/2), which config.c deliberately does not call so that the table stays the
 * single source of the documentation. Model cards copy the `frontend.*` rows from here.
 *
 * Threading: constant data and reentrant functions only.
 */
#include "config_keys.h"

#include <math.h>    /* isfinite, fabs for number formatting */
#include <stdbool.h> /* bool in the table helpers */
#include <stdlib.h>  /* strtod, strtol */
#include <string.h>  /* strncmp, strlen, memcpy */
#include <strings.h> /* strcasecmp: YAML 1.1 words are matched case-insensitively */

#include "config.h" /* bl_config, bl_source_cfg: the offsets in the table */

#define OFF(field) offsetof(bl_config, field)
#define SOFF(field) offsetof(bl_source_cfg, field)

/* Enums are written through an int lvalue; that is only sound if they are int-sized. */
_Static_assert(sizeof(bl_pad_mode) == sizeof(int), "enum size");
_Static_assert(sizeof(bl_mel_scale) == sizeof(int), "enum size");
_Static_assert(sizeof(bl_mel_norm) == sizeof(int), "enum size");
_Static_assert(sizeof(bl_comp_type) == sizeof(int), "enum size");
_Static_assert(sizeof(bl_window_type) == sizeof(int), "enum size");
_Static_assert(sizeof(bl_backend_kind) == sizeof(int), "enum size");
_Static_assert(sizeof(bl_progress_mode) == sizeof(int), "enum size");
_Static_assert(sizeof(bl_nonfinite_mode) == sizeof(int), "enum size");
_Static_assert(sizeof(bl_truncated_mode) == sizeof(int), "enum size");

/* Spellings indexed by the enum value (frontend.h / config.h). */
static const char *const k_window[] = {"hann"};
static const char *const k_pad[] = {"constant", "reflect"};
static const char *const k_scale[] = {"slaney", "htk"};
static const char *const k_norm[] = {"none", "slaney"};
static const char *const k_comp[] = {"log", "db", "pcen", "none"};
static const char *const k_backend[] = {"auto", "cpu", "cuda"};
static const char *const k_progress[] = {"auto", "bar", "json", "none"};
static const char *const k_nonfinite[] = {"fail", "zero"};
static const char *const k_truncated[] = {"fail", "keep"};
static const char *const k_aggregates_default[] = {"max", "mean"};

#define N_OF(a) (sizeof(a) / sizeof((a)[0]))

#define K_INT(p, field, def, lo_, hi_, doc_)                                               \
    {.path = p, .type = BL_CK_INT, .off = OFF(field), .lo = lo_, .hi = hi_, .def_num = def, \
     .doc = doc_}
#define K_DBL(p, field, fl, def, lo_, hi_, doc_)                                  \
    {.path = p, .type = BL_CK_DOUBLE, .flags = fl, .off = OFF(field), .lo = lo_, \
     .hi = hi_, .def_num = def, .doc = doc_}
#define K_BOOL(p, field, def, doc_) \
    {.path = p, .type = BL_CK_BOOL, .off = OFF(field), .def_num = def, .doc = doc_}
#define K_STR(p, field, fl, def, doc_) \
    {.path = p, .type = BL_CK_STRING, .flags = fl, .off = OFF(field), .def_str = def, .doc = doc_}
#define K_ENUM(p, field, def, names_, doc_)                                           \
    {.path = p, .type = BL_CK_ENUM, .off = OFF(field), .def_num = def, .names = names_, \
     .n_names = N_OF(names_), .doc = doc_}
#define K_ITEM(p, field, fl, chk, doc_)                                               \
    {.path = p, .type = BL_CK_STRING, .flags = BL_CK_ITEM | (fl), .off = SOFF(field), \
     .check = chk, .doc = doc_}

/* THE table. Order is the dump order; keys of one section must stay together. */
static const bl_config_key k_keys[] = {
    {.path = "sources", .type = BL_CK_SOURCES, .off = OFF(sources), .count_off = OFF(n_sources),
     .doc = "inputs, in order; each item is a string (file, directory, glob, URL or manifest "
            ".csv) or a mapping with the sources[] keys below; a single string is a one-item list"},
    K_ITEM("sources[].path", path, BL_CK_NONEMPTY, NULL,
           "file, directory, glob, http(s)/s3/gs URL or manifest .csv (required)"),
    K_ITEM("sources[].url", path, BL_CK_NONEMPTY | BL_CK_ALIAS, NULL, "another name for `path`"),
    K_ITEM("sources[].time_pattern", time_pattern, BL_CK_NULLABLE, NULL,
           "strftime-style pattern giving a file's UTC start from its name, e.g. "
           "`MARS-%Y%m%dT%H%M%SZ`; null = start time unknown"),
    K_ITEM("sources[].start", start, BL_CK_NULLABLE, bl_config_check_time,
           "where to begin: seconds from the file's start or ISO-8601 UTC "
           "(`2018-11-01T03:00:00Z`); null = the beginning"),
    K_ITEM("sources[].end", end, BL_CK_NULLABLE, bl_config_check_time,
           "where to stop, same forms as start; null = the end of the file"),
    K_STR("model", model, BL_CK_NONEMPTY, "models/zoo/whalecall-small",
          "model directory (model.onnx + model.yaml) or an .onnx file"),
    K_ENUM("input.non_finite", input.non_finite, BL_NONFINITE_FAIL, k_nonfinite,
           "NaN or Inf samples in a file: fail = the item fails (errors.csv gives the count and the "
           "first ten positions); zero = they are replaced by 0 and the item gets a warning "
           "(warnings.csv)"),
    K_ENUM("input.truncated", input.truncated, BL_TRUNCATED_FAIL, k_truncated,
           "a file whose audio ends before its header says: fail = the item fails (errors.csv); "
           "keep = the audio that is there is scored and the item gets a warning (warnings.csv)"),
    K_INT("frontend.sample_rate", frontend.sample_rate, 16000, 1000, 1000000,
          "Hz; audio is resampled to this rate"),
    K_INT("frontend.n_fft", frontend.n_fft, 1024, 16, 65536, "FFT length in samples (even)"),
    K_INT("frontend.win_length", frontend.win_length, 0, 0, 65536,
          "Hann window length, centred in n_fft (<= n_fft); 0 = n_fft"),
    K_INT("frontend.hop_length", frontend.hop_length, 300, 1, 65536,
          "samples between the starts of successive frames"),
    K_ENUM("frontend.window", frontend.window, BL_WINDOW_HANN, k_window,
           "analysis window (periodic, as torch.hann_window)"),
    K_BOOL("frontend.center", frontend.center, 1,
           "pad n_fft/2 samples at both ends, as torch.stft(center=True)"),
    K_ENUM("frontend.pad_mode", frontend.pad_mode, BL_PAD_REFLECT, k_pad,
           "how the ends are padded when center is true"),
    K_DBL("frontend.power", frontend.power, BL_CK_LO_OPEN, 2.0, 0, 4,
          "exponent on the STFT magnitude: 2 = power, 1 = magnitude"),
    K_INT("frontend.mel.n_mels", frontend.mel.n_mels, 64, 1, 1024, "number of mel bands"),
    K_DBL("frontend.mel.fmin", frontend.mel.fmin, 0, 0.0, 0, 1e6,
          "lowest filter edge in Hz (< fmax)"),
    K_DBL("frontend.mel.fmax", frontend.mel.fmax, 0, 0.0, 0, 1e6,
          "highest filter edge in Hz (<= sample_rate/2); 0 = sample_rate/2"),
    K_ENUM("frontend.mel.scale", frontend.mel.scale, BL_MEL_SLANEY, k_scale,
           "mel scale formula, as torchaudio.functional.melscale_fbanks(mel_scale=...)"),
    K_ENUM("frontend.mel.norm", frontend.mel.norm, BL_MELNORM_SLANEY, k_norm,
           "filter normalisation: slaney = divide by the band width (area), none = peak 1"),
    K_ENUM("frontend.compression.type", frontend.compression.type, BL_COMP_LOG, k_comp,
           "log = ln(S + eps); db = 10 log10(max(S, amin)); pcen = per-channel energy "
           "normalisation; none = S"),
    K_DBL("frontend.compression.eps", frontend.compression.eps, BL_CK_LO_OPEN, 1e-6, 0, 1,
          "log: added before the logarithm; pcen: eps in (eps + M)^alpha"),
    K_DBL("frontend.compression.amin", frontend.compression.amin, BL_CK_LO_OPEN, 1e-10, 0, 1,
          "db: floor applied before 10 log10"),
    K_DBL("frontend.compression.alpha", frontend.compression.alpha, 0, 0.98, 0, 1,
          "pcen: gain normalisation exponent"),
    K_DBL("frontend.compression.delta", frontend.compression.delta, 0, 2.0, 0, 100,
          "pcen: bias added before the root compression"),
    K_DBL("frontend.compression.r", frontend.compression.r, BL_CK_LO_OPEN, 0.5, 0, 1,
          "pcen: root compression exponent"),
    K_DBL("frontend.compression.time_constant", frontend.compression.time_constant,
          BL_CK_LO_OPEN, 0.4, 0, 1000, "pcen: smoother time constant in seconds"),
    K_INT("windows.window_frames", windows.window_frames, 0, 0, 1000000,
          "front-end frames per model window; 0 = the model card's window_frames"),
    K_INT("windows.hop_frames", windows.hop_frames, 0, 0, 1000000,
          "frames between the starts of successive windows (<= the window, so that every frame "
          "is scored); 0 = the model card's hop_frames"),
    K_INT("batch.size", batch.size, 32, 1, 65536,
          "windows per model batch; batches have a fixed shape (the last one is padded), so a "
          "window's score never depends on its neighbours"),
    K_DBL("pooling.segment_seconds", pooling.segment_seconds, 0, 60.0, 0.001, 86400,
          "length of one pooled segment (one output row per segment and class); at least one "
          "window hop"),
    {.path = "pooling.aggregates", .type = BL_CK_STRLIST, .off = OFF(pooling.aggregates),
     .count_off = OFF(pooling.n_aggregates), .names = k_aggregates_default,
     .n_names = N_OF(k_aggregates_default), .check = bl_config_check_aggregate,
     .doc = "window scores reduced per segment: max, mean, pNN (percentile, NN 1..99), "
            "topK_mean (mean of the K best, K >= 1)"},
    K_DBL("events.threshold", events.threshold, 0, 0.5, 0, 1,
          "an event starts when a window score reaches this"),
    K_DBL("events.threshold_off", events.threshold_off, 0, 0.35, 0, 1,
          "and ends when the score falls below this (<= threshold; hysteresis)"),
    K_DBL("events.min_gap_seconds", events.min_gap_seconds, 0, 1.0, 0, 86400,
          "events closer than this are merged into one"),
    K_DBL("events.min_duration_seconds", events.min_duration_seconds, 0, 0.3, 0, 86400,
          "shorter events are dropped"),
    K_STR("output.dir", output.dir, BL_CK_NONEMPTY, "out",
          "output directory (segments/, events/, manifest.json, run.json)"),
    K_INT("output.rows_per_chunk", output.rows_per_chunk, 100000, 1, 1000000000,
          "rows per compressed CSV chunk"),
    K_INT("output.zstd_level", output.zstd_level, 3, 1, 22, "zstd compression level"),
    K_BOOL("output.clips.enabled", output.clips_enabled, 0,
           "write a FLAC clip of each event under clips/"),
    K_DBL("output.clips.pad_seconds", output.clips_pad_seconds, 0, 1.0, 0, 3600,
          "audio kept before and after each event in its clip"),
    K_BOOL("persist.window_scores", persist.window_scores, 0,
           "also write every window's scores (window_scores/ table, one column per class)"),
    K_BOOL("persist.features", persist.features, 0,
           "also write the front end's features as .npy [1, n_mels, frames] per source and channel (the layout of baleen features) "
           "under features/"),
    K_ENUM("runtime.backend", runtime.backend, BL_BACKEND_AUTO, k_backend,
           "auto = CUDA when a device answers, else the CPU"),
    K_INT("runtime.threads", runtime.threads, 0, 0, 4096, "CPU worker threads; 0 = every CPU this process may use (its affinity mask and cgroup CPU quota)"),
    K_ENUM("runtime.progress", runtime.progress, BL_PROGRESS_AUTO, k_progress,
           "auto = a live line when stderr is a terminal; bar; json = one object per second on "
           "stderr; none"),
    K_INT("runtime.files_in_flight", runtime.files_in_flight, 3, 1, 64,
          "files decoded ahead of the model (each holds its own bounded block pool); results "
          "do not depend on it"),
    K_DBL("runtime.block_seconds", runtime.block_seconds, 0, 30.0, 0.01, 3600,
          "audio decoded per block; memory grows with it, results do not depend on it"),
};

static const bl_key_table k_table = {
    .rows = k_keys,
    .n = N_OF(k_keys),
    .items = "sources[]",
    .what = "config",
    .example = "model",
    .keys_hint = "`baleen config keys`",
    .too_many = "; list many inputs in a manifest .csv source instead",
};

const bl_key_table *bl_config_table(void) { return &k_table; }

const bl_config_key *bl_config_keys(size_t *n) {
    if (n) *n = N_OF(k_keys);
    return k_keys;
}

/* Length of t's item prefix with its dot ("sources[]." → 10), 0 when it has no items. */
static size_t items_len(const bl_key_table *t) { return t->items ? strlen(t->items) + 1 : 0; }

int bl_keys_find(const bl_key_table *t, const char *path, bool items) {
    if (items && !t->items) return -1;
    for (size_t i = 0; i < t->n; i++) {
        const char *p = t->rows[i].path;
        bool is_item = (t->rows[i].flags & BL_CK_ITEM) != 0;
        if (is_item != items) continue;
        if (items) p += items_len(t);
        if (!strcmp(p, path)) return (int)i;
    }
    return -1;
}

int bl_keys_canonical(const bl_key_table *t, int idx) {
    while (idx > 0 && (size_t)idx < t->n && (t->rows[idx].flags & BL_CK_ALIAS)) idx--;
    return idx;
}

int bl_config_key_find(const char *path, bool items) { return bl_keys_find(&k_table, path, items); }

bool bl_keys_is_section(const bl_key_table *t, const char *path) {
    size_t n = strlen(path);
    if (n == 0) return true;
    for (size_t i = 0; i < t->n; i++) {
        if (t->rows[i].flags & BL_CK_ITEM) continue;
        if (!strncmp(t->rows[i].path, path, n) && t->rows[i].path[n] == '.') return true;
    }
    return false;
}

bool bl_config_is_section(const char *path) { return bl_keys_is_section(&k_table, path); }

/* The child of `prefix` that row i leads to (its next path component), or false when the
 * row is not under prefix. */
static bool child_of(const bl_key_table *t, size_t i, const char *prefix, const char **child,
                     size_t *len) {
    const bl_config_key *k = &t->rows[i];
    bool items = t->items && !strcmp(prefix, t->items);
    if (((k->flags & BL_CK_ITEM) != 0) != items) return false;
    const char *p = k->path;
    size_t np = strlen(prefix);
    if (np) {
        if (strncmp(p, prefix, np) || p[np] != '.') return false;
        p += np + 1;
    }
    const char *dot = strchr(p, '.');
    *child = p;
    *len = dot ? (size_t)(dot - p) : strlen(p);
    return true;
}

void bl_keys_children(const bl_key_table *t, const char *prefix, char *out, size_t cap) {
    size_t used = 0;
    if (cap) out[0] = '\0';
    for (size_t i = 0; i < t->n; i++) {
        const char *c;
        size_t len;
        if (!child_of(t, i, prefix, &c, &len)) continue;
        bool seen = false; /* rows of one section are adjacent: compare with earlier rows */
        for (size_t j = 0; j < i && !seen; j++) {
            const char *c2;
            size_t len2;
            seen = child_of(t, j, prefix, &c2, &len2) && len2 == len && !strncmp(c, c2, len);
        }
        if (seen) continue;
        int w = snprintf(out + used, cap > used ? cap - used : 0, "%s%.*s", used ? ", " : "",
                         (int)len, c);
        if (w > 0) used += (size_t)w;
        if (used >= cap) break;
    }
}

size_t bl_edit_distance(const char *a, size_t na, const char *b, size_t nb) {
    if (na > 64 || nb > 64) return (size_t)-1;
    size_t row[65];
    for (size_t j = 0; j <= nb; j++) row[j] = j;
    for (size_t i = 1; i <= na; i++) {
        size_t diag = row[0];
        row[0] = i;
        for (size_t j = 1; j <= nb; j++) {
            size_t up = row[j];
            size_t best = diag + (a[i - 1] != b[j - 1]);
            if (row[j - 1] + 1 < best) best = row[j - 1] + 1;
            if (up + 1 < best) best = up + 1;
            row[j] = best;
            diag = up;
        }
    }
    return row[nb];
}

/* How many edits still count as a typo of a word of n characters. */
static size_t typo_budget(size_t n) { return n <= 4 ? 1 : n <= 8 ? 2 : 3; }

bool bl_keys_suggest(const bl_key_table *t, const char *prefix, const char *key, char *out, size_t cap) {
    size_t nk = strlen(key);
    bool items = t->items && !strcmp(prefix, t->items);
    size_t best = (size_t)-1;
    /* 1. siblings: the children of prefix */
    for (size_t i = 0; i < t->n; i++) {
        const char *c;
        size_t len;
        if (!child_of(t, i, prefix, &c, &len)) continue;
        size_t d = bl_edit_distance(key, nk, c, len);
        if (d < best && d <= typo_budget(nk)) {
            best = d;
            if (items || !prefix[0])
                snprintf(out, cap, "%.*s", (int)len, c);
            else
                snprintf(out, cap, "%s.%.*s", prefix, (int)len, c);
        }
    }
    if (best != (size_t)-1 || items) return best != (size_t)-1;
    /* 2. anywhere: the key's own name against every key's last component and section
     *    names (`hop_length` at the top level → frontend.hop_length), and the full path
     *    against every path (`frontnd.n_fft` → frontend.n_fft). */
    char full[256];
    snprintf(full, sizeof full, "%s%s%s", prefix, prefix[0] ? "." : "", key);
    size_t nf = strlen(full);
    for (size_t i = 0; i < t->n; i++) {
        const bl_config_key *k = &t->rows[i];
        if (k->flags & BL_CK_ITEM) continue;
        /* every prefix of the path (sections) and the path itself */
        for (const char *end = strchr(k->path, '.');; end = strchr(end + 1, '.')) {
            size_t plen = end ? (size_t)(end - k->path) : strlen(k->path);
            const char *last = k->path;
            for (const char *q = k->path; q < k->path + plen; q++)
                if (*q == '.') last = q + 1;
            size_t dl = bl_edit_distance(key, nk, last, plen - (size_t)(last - k->path));
            size_t df = bl_edit_distance(full, nf, k->path, plen);
            size_t d = dl < df ? dl : df;
            size_t budget = typo_budget(d == dl ? nk : nf);
            if (d < best && d <= budget) {
                best = d;
                snprintf(out, cap, "%.*s", (int)plen, k->path);
            }
            if (!end) break;
        }
    }
    return best != (size_t)-1;
}

void bl_config_key_expected(const bl_config_key *k, char *out, size_t cap) {
    char lo[40], hi[40];
    switch (k->type) {
    case BL_CK_INT:
        snprintf(out, cap, "an integer in [%.0f, %.0f]", k->lo, k->hi);
        break;
    case BL_CK_DOUBLE:
        bl_config_format_number(k->lo, lo, sizeof lo);
        bl_config_format_number(k->hi, hi, sizeof hi);
        snprintf(out, cap, "a number in %c%s, %s%c", (k->flags & BL_CK_LO_OPEN) ? '(' : '[', lo,
                 hi, (k->flags & BL_CK_HI_OPEN) ? ')' : ']');
        break;
    case BL_CK_BOOL: snprintf(out, cap, "true or false"); break;
    case BL_CK_STRING:
        snprintf(out, cap, "%s%s", (k->flags & BL_CK_NONEMPTY) ? "a non-empty string" : "a string",
                 (k->flags & BL_CK_NULLABLE) ? " or null" : "");
        break;
    case BL_CK_ENUM: {
        size_t used = (size_t)snprintf(out, cap, "one of ");
        for (size_t i = 0; i < k->n_names && used < cap; i++) {
            int w = snprintf(out + used, cap - used, "%s%s", i ? ", " : "", k->names[i]);
            if (w > 0) used += (size_t)w;
        }
        break;
    }
    case BL_CK_STRLIST: { /* the default items make the example: "e.g. [max, mean]" */
        size_t used = (size_t)snprintf(out, cap, "a list of strings%s", k->n_names ? ", e.g. [" : "");
        for (size_t i = 0; i < k->n_names && used < cap; i++) {
            int w = snprintf(out + used, cap - used, "%s%s%s", i ? ", " : "", k->names[i],
                             i + 1 == k->n_names ? "]" : "");
            if (w > 0) used += (size_t)w;
        }
        break;
    }
    case BL_CK_SOURCES:
        snprintf(out, cap, "a list of sources (path strings or {path: ..., start: ...} mappings)");
        break;
    case BL_CK_YAML: snprintf(out, cap, "any YAML value"); break;
    }
}

void bl_config_format_double(double v, char *out, size_t cap) {
    char buf[64];
    buf[0] = '\0';
    if (!isfinite(v)) {
        snprintf(out, cap, "%s", isnan(v) ? ".nan" : v > 0 ? ".inf" : "-.inf");
        return;
    }
    bool done = false;
    /* Plain decimals read best in the usual range; elsewhere the shortest %g. */
    if (v == 0 || (fabs(v) >= 1e-4 && fabs(v) < 1e15)) {
        for (int d = 0; d <= 17 && !done; d++) {
            snprintf(buf, sizeof buf, "%.*f", d, v);
            done = strtod(buf, NULL) == v;
        }
    }
    for (int p = 1; p <= 17 && !done; p++) {
        snprintf(buf, sizeof buf, "%.*g", p, v);
        done = strtod(buf, NULL) == v;
    }
    if (!strpbrk(buf, ".e")) strcat(buf, ".0"); /* so that it reads as a number with a fraction */
    snprintf(out, cap, "%s", buf);
}

void bl_config_format_number(double v, char *out, size_t cap) {
    char buf[64];
    bl_config_format_double(v, buf, sizeof buf);
    size_t n = strlen(buf);
    if (n > 2 && !strcmp(buf + n - 2, ".0")) buf[n - 2] = '\0';
    snprintf(out, cap, "%s", buf);
}

static bool is_plain_safe(const char *s) {
    static const char *const special[] = {"null", "true", "false", "yes", "no", "on", "off", "y", "n"};
    if (!s[0]) return false;
    if (!((s[0] >= 'A' && s[0] <= 'Z') || (s[0] >= 'a' && s[0] <= 'z') || s[0] == '_' || s[0] == '/'))
        return false;
    for (const char *p = s; *p; p++) {
        unsigned char ch = (unsigned char)*p;
        bool ok = (ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') ||
                  strchr("_./+%*-", ch) || (ch == ':' && p[1] && p[1] != ' ');
        if (!ok || ch == 0) return false;
    }
    for (size_t i = 0; i < N_OF(special); i++)
        if (!strcasecmp(s, special[i])) return false;
    return true;
}

void bl_config_put_string(FILE *f, const char *s) {
    if (!s) {
        fputs("null", f);
        return;
    }
    if (is_plain_safe(s)) {
        fputs(s, f);
        return;
    }
    fputc('"', f);
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        unsigned char ch = *p;
        if (ch == '"') fputs("\\\"", f);
        else if (ch == '\\') fputs("\\\\", f);
        else if (ch == '\n') fputs("\\n", f);
        else if (ch == '\t') fputs("\\t", f);
        else if (ch == '\r') fputs("\\r", f);
        else if (ch < 0x20 || ch == 0x7f) fprintf(f, "\\x%02X", ch);
        /* YAML reads these code points as line breaks or strips them: escape them. */
        else if (ch == 0xC2 && p[1] >= 0x80 && p[1] <= 0x9F) {
            if (p[1] == 0x85) fputs("\\N", f);
            else fprintf(f, "\\x%02X", p[1]);
            p++;
        } else if (ch == 0xE2 && p[1] == 0x80 && (p[2] == 0xA8 || p[2] == 0xA9)) {
            fputs(p[2] == 0xA8 ? "\\L" : "\\P", f);
            p += 2;
        } else if (ch == 0xEF && p[1] == 0xBB && p[2] == 0xBF) {
            fputs("\\uFEFF", f);
            p += 2;
        } else fputc(ch, f);
    }
    fputc('"', f);
}

/* "p" then 1..99 without a leading zero. */
static bool parse_small_int(const char *s, long lo, long hi) {
    if (s[0] < '1' || s[0] > '9') return false;
    char *end;
    long v = strtol(s, &end, 10);
    return *end == '\0' && v >= lo && v <= hi && end - s <= 9;
}

const char *bl_config_check_aggregate(const char *s) {
    static const char *const expect =
        "max, mean, pNN (NN 1..99) or topK_mean (K >= 1), e.g. p90, top3_mean";
    if (!strcmp(s, "max") || !strcmp(s, "mean")) return NULL;
    if (s[0] == 'p' && parse_small_int(s + 1, 1, 99)) return NULL;
    size_t n = strlen(s);
    if (n > 8 && !strncmp(s, "top", 3) && !strcmp(s + n - 5, "_mean")) {
        char k[16];
        size_t nk = n - 8;
        if (nk < sizeof k) {
            memcpy(k, s + 3, nk);
            k[nk] = '\0';
            if (parse_small_int(k, 1, 1000000)) return NULL;
        }
    }
    return expect;
}

static bool digits(const char *s, int n) {
    for (int i = 0; i < n; i++)
        if (s[i] < '0' || s[i] > '9') return false;
    return true;
}

static int num2(const char *s) { return (s[0] - '0') * 10 + (s[1] - '0'); }

const char *bl_config_check_time(const char *s) {
    static const char *const expect =
        "seconds from the file's start (e.g. 3600) or ISO-8601 UTC (e.g. 2018-11-01T03:00:00Z)";
    if (!s[0]) return expect;
    if ((s[0] >= '0' && s[0] <= '9') || s[0] == '.') {
        char *end;
        double v = strtod(s, &end);
        if (*end == '\0' && isfinite(v) && v >= 0 && !strpbrk(s, "xXnN")) return NULL;
    }
    /* YYYY-MM-DDTHH:MM:SS[.fff](Z|+00:00) */
    size_t n = strlen(s);
    if (n < 20 || !digits(s, 4) || s[4] != '-' || !digits(s + 5, 2) || s[7] != '-' ||
        !digits(s + 8, 2) || (s[10] != 'T' && s[10] != 't') || !digits(s + 11, 2) || s[13] != ':' ||
        !digits(s + 14, 2) || s[16] != ':' || !digits(s + 17, 2))
        return expect;
    if (num2(s + 5) < 1 || num2(s + 5) > 12 || num2(s + 8) < 1 || num2(s + 8) > 31 ||
        num2(s + 11) > 23 || num2(s + 14) > 59 || num2(s + 17) > 60)
        return expect;
    const char *p = s + 19;
    if (*p == '.') {
        p++;
        if (*p < '0' || *p > '9') return expect;
        while (*p >= '0' && *p <= '9') p++;
    }
    if (!strcmp(p, "Z") || !strcmp(p, "z") || !strcmp(p, "+00:00")) return NULL;
    return expect;
}

/* ---- the key reference --------------------------------------------------------------- */

static void put_default(FILE *f, const bl_config_key *k) {
    char buf[64];
    switch (k->type) {
    case BL_CK_INT: fprintf(f, "%.0f", k->def_num); break;
    case BL_CK_DOUBLE:
        bl_config_format_double(k->def_num, buf, sizeof buf);
        fputs(buf, f);
        break;
    case BL_CK_BOOL: fputs(k->def_num != 0 ? "true" : "false", f); break;
    case BL_CK_STRING: bl_config_put_string(f, k->def_str); break;
    case BL_CK_ENUM: fputs(k->names[(size_t)k->def_num], f); break;
    case BL_CK_STRLIST:
        fputc('[', f);
        for (size_t i = 0; i < k->n_names; i++) {
            if (i) fputs(", ", f);
            bl_config_put_string(f, k->names[i]);
        }
        fputc(']', f);
        break;
    case BL_CK_SOURCES: fputs("[]", f); break;
    case BL_CK_YAML: fputs("null", f); break;
    }
}

/* Type column: "int [16, 65536]", "one of `log`, `db`". `md` adds code spans. */
static void put_type(FILE *f, const bl_config_key *k, bool md) {
    char lo[40], hi[40];
    const char *q = md ? "`" : "";
    switch (k->type) {
    case BL_CK_INT: fprintf(f, "int [%.0f, %.0f]", k->lo, k->hi); break;
    case BL_CK_DOUBLE:
        bl_config_format_number(k->lo, lo, sizeof lo);
        bl_config_format_number(k->hi, hi, sizeof hi);
        fprintf(f, "number %c%s, %s%c", (k->flags & BL_CK_LO_OPEN) ? '(' : '[', lo, hi,
                (k->flags & BL_CK_HI_OPEN) ? ')' : ']');
        break;
    case BL_CK_BOOL: fputs("bool", f); break;
    case BL_CK_STRING: fputs((k->flags & BL_CK_NULLABLE) ? "string or null" : "string", f); break;
    case BL_CK_ENUM:
        fputs("one of ", f);
        for (size_t i = 0; i < k->n_names; i++) fprintf(f, "%s%s%s%s", i ? ", " : "", q, k->names[i], q);
        break;
    case BL_CK_STRLIST: fputs("list of strings", f); break;
    case BL_CK_SOURCES: fputs("list of sources", f); break;
    case BL_CK_YAML: fputs("any YAML (mapping, list, scalar)", f); break;
    }
}

static bool is_required(const bl_config_key *k) {
    return (k->flags & BL_CK_REQUIRED) || ((k->flags & BL_CK_ITEM) && !(k->flags & BL_CK_NULLABLE));
}

/* Default column: "(alias)", "(required)", "same as `sample_rate`" or the value. */
static void put_default_cell(FILE *f, const bl_config_key *k, bool md) {
    const char *q = md ? "`" : "";
    if (k->flags & BL_CK_ALIAS) fputs(md ? "(alias)" : "alias", f);
    else if (is_required(k)) fputs(md ? "(required)" : "required", f);
    else if (k->flags & BL_CK_DEF_KEY) fprintf(f, "%ssame as %s%s%s", md ? "" : "default ", q, k->def_str, q);
    else {
        fputs(md ? "`" : "default ", f);
        put_default(f, k);
        fputs(q, f);
    }
}

bl_status bl_keys_write_markdown(const bl_key_table *t, FILE *f) {
    BL_RETURN_IF(!t || !f, BL_ERR_INVALID_ARG, "bl_keys_write_markdown: no table or output stream");
    fputs("| key | type | default | meaning |\n| --- | --- | --- | --- |\n", f);
    for (size_t i = 0; i < t->n; i++) {
        const bl_config_key *k = &t->rows[i];
        fprintf(f, "| `%s` | ", k->path);
        put_type(f, k, true);
        fputs(" | ", f);
        put_default_cell(f, k, true);
        fprintf(f, " | %s |\n", k->doc);
    }
    BL_RETURN_IF(ferror(f), BL_ERR_IO, "writing the key table failed");
    return BL_OK;
}

bl_status bl_keys_write_text(const bl_key_table *t, FILE *f) {
    BL_RETURN_IF(!t || !f, BL_ERR_INVALID_ARG, "bl_keys_write_text: no table or output stream");
    for (size_t i = 0; i < t->n; i++) {
        const bl_config_key *k = &t->rows[i];
        fprintf(f, "%s\n    ", k->path);
        put_type(f, k, false);
        fputs(", ", f);
        put_default_cell(f, k, false);
        fprintf(f, "\n    %s\n", k->doc);
    }
    BL_RETURN_IF(ferror(f), BL_ERR_IO, "writing the key list failed");
    return BL_OK;
}

bl_status bl_config_write_keys_markdown(FILE *f) { return bl_keys_write_markdown(&k_table, f); }
bl_status bl_config_write_keys_text(FILE *f) { return bl_keys_write_text(&k_table, f); }


static const void *cfield(const void *base, size_t off) { return (const char *)base + off; }

/* The sources list at row k of base. */
static const bl_source_cfg *sources_of(const void *base, const bl_config_key *k, size_t *n) {
    *n = *(const size_t *)cfield(base, k->count_off);
    return *(const bl_source_cfg *const *)cfield(base, k->off);
}

/* ---- validation ---------------------------------------------------------------------- */

#define VFAIL(...) return bl_error_set(BL_ERR_CONFIG, __FILE__, __LINE__, __VA_ARGS__)

static bl_status validate_sources(const bl_source_cfg *src, size_t n, const char *where) {
    for (size_t j = 0; j < n; j++) {
        const bl_source_cfg *s = &src[j];
        if (!s->path || !s->path[0]) VFAIL("%ssources[%zu].path: expected a non-empty string", where, j);
        const char *why = NULL, *which = NULL;
        if (s->start && (why = bl_config_check_time(s->start))) which = "start";
        else if (s->end && (why = bl_config_check_time(s->end))) which = "end";
        if (why)
            VFAIL("%ssources[%zu].%s: expected %s, got \"%.64s\"", where, j, which, why,
                  which[0] == 's' ? s->start : s->end);
        double a, b;
        if (s->start && s->end && bl_keys_parse_double(s->start, &a) && bl_keys_parse_double(s->end, &b) &&
            a >= b)
            VFAIL("%ssources[%zu]: start (%s) must come before end (%s)", where, j, s->start, s->end);
    }
    return BL_OK;
}

static bl_status validate_key(const bl_key_table *t, const void *base,
                              const struct bl_config_marks *marks, const char *origin, int i) {
    const bl_config_key *k = &t->rows[i];
    char where[600], exp[256], num[64];
    const void *p = cfield(base, k->off);
    bl_keys_where(marks, origin, i, where, sizeof where);
    bl_config_key_expected(k, exp, sizeof exp);
    if ((k->flags & BL_CK_REQUIRED) && !bl_keys_marked(marks, i))
        VFAIL("%s: %s: required key missing; expected %s (%s)", origin ? origin : "<config>", k->path, exp,
              k->doc);
    switch (k->type) {
    case BL_CK_INT:
        if (!bl_keys_in_range(k, *(const int *)p))
            VFAIL("%s%s: expected %s, got %d", where, k->path, exp, *(const int *)p);
        break;
    case BL_CK_DOUBLE:
        if (!bl_keys_in_range(k, *(const double *)p)) {
            bl_config_format_number(*(const double *)p, num, sizeof num);
            VFAIL("%s%s: expected %s, got %s", where, k->path, exp, num);
        }
        break;
    case BL_CK_ENUM: {
        int v = *(const int *)p;
        if (v < 0 || (size_t)v >= k->n_names) VFAIL("%s%s: expected %s, got %d", where, k->path, exp, v);
        break;
    }
    case BL_CK_STRING: {
        const char *s = *(const char *const *)p;
        if ((!s && !(k->flags & BL_CK_NULLABLE)) || (s && !s[0] && (k->flags & BL_CK_NONEMPTY)))
            VFAIL("%s%s: expected %s, got %s", where, k->path, exp, s ? "\"\"" : "null");
        const char *why = s && k->check ? k->check(s) : NULL;
        if (why) VFAIL("%s%s: expected %s, got \"%.64s\"", where, k->path, why, s);
        break;
    }
    case BL_CK_STRLIST: {
        char *const *a = *(char *const *const *)p;
        size_t n = *(const size_t *)cfield(base, k->count_off);
        if (n == 0) {
            if (k->n_names) VFAIL("%s%s: needs at least one item, e.g. [%s]", where, k->path, k->names[0]);
            VFAIL("%s%s: needs at least one item", where, k->path);
        }
        for (size_t j = 0; j < n; j++) {
            const char *why = !a[j] ? "a string" : k->check ? k->check(a[j]) : NULL;
            if (why) VFAIL("%s%s[%zu]: expected %s, got \"%.64s\"", where, k->path, j, why, a[j] ? a[j] : "null");
            for (size_t q = 0; q < j; q++)
                if (!strcmp(a[q], a[j]))
                    VFAIL("%s%s: \"%.64s\" is listed twice (items %zu and %zu)", where, k->path, a[j], q, j);
        }
        break;
    }
    case BL_CK_SOURCES: {
        size_t n;
        const bl_source_cfg *src = sources_of(base, k, &n);
        BL_TRY(validate_sources(src, n, where));
        break;
    }
    case BL_CK_BOOL:
    case BL_CK_YAML: break;
    }
    return BL_OK;
}

bl_status bl_keys_validate(const bl_key_table *t, const void *base,
                           const struct bl_config_marks *marks, const char *origin) {
    BL_RETURN_IF(!t || !base, BL_ERR_INVALID_ARG, "bl_keys_validate: no table or document");
    for (size_t i = 0; i < t->n; i++)
        if (!(t->rows[i].flags & (BL_CK_ITEM | BL_CK_ALIAS))) BL_TRY(validate_key(t, base, marks, origin, (int)i));
    return BL_OK;
}

/* The location of whichever of two keys the user wrote (a, else b). When b came from a
 * --set argument and a from a file, the --set (applied last, so most likely what broke the
 * rule, and what the user just typed) is named first and the file position after it:
 * "--set events.threshold=0.3 and run.yaml:3:41: ". */
static const char *loc2(bl_keys_loc_fn loc, const void *ctx, const char *a, const char *b, char *buf,
                        size_t cap) {
    char lb[600];
    loc(ctx, a, buf, cap);
    loc(ctx, b, lb, sizeof lb);
    if (!buf[0]) {
        snprintf(buf, cap, "%s", lb);
    } else if (!strncmp(lb, "--set ", 6) && strncmp(buf, "--set ", 6)) {
        size_t na = strlen(buf), nb = strlen(lb) - 2; /* lb ends in ": " (bl_keys_where) */
        if (nb + 5 + na < cap) { /* else the file position alone, as before */
            memmove(buf + nb + 5, buf, na + 1);
            memcpy(buf, lb, nb);
            memcpy(buf + nb, " and ", 5);
        }
    }
    return buf;
}

bl_status bl_keys_check_frontend(const bl_frontend_params *fe, bl_keys_loc_fn loc, const void *ctx) {
    char where[600], a[64], b[64];
    if (fe->n_fft % 2 != 0)
        VFAIL("%sfrontend.n_fft: must be even, got %d", loc(ctx, "frontend.n_fft", where, sizeof where),
              fe->n_fft);
    if (fe->win_length > fe->n_fft)
        VFAIL("%sfrontend.win_length: must be <= frontend.n_fft (%d), got %d",
              loc2(loc, ctx, "frontend.win_length", "frontend.n_fft", where, sizeof where), fe->n_fft,
              fe->win_length);
    double nyquist = fe->sample_rate / 2.0;
    double fmax = fe->mel.fmax > 0 ? fe->mel.fmax : nyquist;
    if (fe->mel.fmax > nyquist) {
        bl_config_format_number(fe->mel.fmax, a, sizeof a);
        bl_config_format_number(nyquist, b, sizeof b);
        VFAIL("%sfrontend.mel.fmax: must be <= frontend.sample_rate/2 (%s Hz), got %s",
              loc2(loc, ctx, "frontend.mel.fmax", "frontend.sample_rate", where, sizeof where), b, a);
    }
    if (!(fe->mel.fmin < fmax)) {
        bl_config_format_number(fe->mel.fmin, a, sizeof a);
        bl_config_format_number(fmax, b, sizeof b);
        VFAIL("%sfrontend.mel.fmin: must be < frontend.mel.fmax (%s Hz%s), got %s",
              loc2(loc, ctx, "frontend.mel.fmin", fe->mel.fmax > 0 ? "frontend.mel.fmax" : "frontend.sample_rate",
                   where, sizeof where),
              b, fe->mel.fmax > 0 ? "" : ", sample_rate/2", a);
    }
    return BL_OK;
}

static const char *config_loc(const void *ctx, const char *path, char *buf, size_t cap) {
    const bl_config *c = ctx;
    return bl_keys_where(c->marks, c->origin, bl_keys_find(&k_table, path, false), buf, cap);
}

bl_status bl_config_validate(const bl_config *c) {
    BL_RETURN_IF(!c, BL_ERR_INVALID_ARG, "bl_config_validate: no config");
    BL_TRY(bl_keys_validate(&k_table, c, c->marks, c->origin));
    BL_TRY(bl_keys_check_frontend(&c->frontend, config_loc, c));
    if (c->events.threshold_off > c->events.threshold) {
        char where[600], a[64], b[64];
        bl_config_format_number(c->events.threshold_off, a, sizeof a);
        bl_config_format_number(c->events.threshold, b, sizeof b);
        loc2(config_loc, c, "events.threshold_off", "events.threshold", where, sizeof where);
        VFAIL("%sevents.threshold_off: must be <= events.threshold (%s), got %s", where, b, a);
    }
    return BL_OK;
}

/* ---- dump and comparison ------------------------------------------------------------- */

/* Length of the path's first d+1 components ("frontend.mel" for d = 1), 0 when shorter. */
static size_t prefix_len(const char *path, int d) {
    const char *p = path;
    for (int i = 0; i <= d; i++) {
        const char *dot = strchr(p, '.');
        if (!dot) return 0;
        if (i == d) return (size_t)(dot - path);
        p = dot + 1;
    }
    return 0;
}

static void put_value(FILE *f, const void *base, const bl_config_key *k, int indent) {
    const void *p = cfield(base, k->off);
    char num[64];
    size_t n_src = 0;
    const bl_source_cfg *src = k->type == BL_CK_SOURCES ? sources_of(base, k, &n_src) : NULL;
    if (k->type != BL_CK_SOURCES || n_src == 0) fputc(' ', f); /* inline value */
    switch (k->type) {
    case BL_CK_INT: fprintf(f, "%d", *(const int *)p); break;
    case BL_CK_DOUBLE:
        bl_config_format_double(*(const double *)p, num, sizeof num);
        fputs(num, f);
        break;
    case BL_CK_BOOL: fputs(*(const bool *)p ? "true" : "false", f); break;
    case BL_CK_STRING: bl_config_put_string(f, *(const char *const *)p); break;
    case BL_CK_YAML: /* already flow-style YAML text (config.c) */
        fputs(*(const char *const *)p ? *(const char *const *)p : "null", f);
        break;
    case BL_CK_ENUM: {
        int v = *(const int *)p;
        if (v >= 0 && (size_t)v < k->n_names) fputs(k->names[v], f);
        else fprintf(f, "%d", v); /* invalid; validate says so */
        break;
    }
    case BL_CK_STRLIST: {
        char *const *a = *(char *const *const *)p;
        size_t n = *(const size_t *)cfield(base, k->count_off);
        fputc('[', f);
        for (size_t i = 0; i < n; i++) {
            if (i) fputs(", ", f);
            bl_config_put_string(f, a[i]);
        }
        fputc(']', f);
        break;
    }
    case BL_CK_SOURCES:
        if (n_src == 0) fputs("[]", f);
        for (size_t i = 0; i < n_src; i++) {
            const bl_source_cfg *s = &src[i];
            fprintf(f, "\n%*s- path: ", indent + 2, "");
            bl_config_put_string(f, s->path);
            fprintf(f, "\n%*s  time_pattern: ", indent + 2, "");
            bl_config_put_string(f, s->time_pattern);
            fprintf(f, "\n%*s  start: ", indent + 2, "");
            bl_config_put_string(f, s->start);
            fprintf(f, "\n%*s  end: ", indent + 2, "");
            bl_config_put_string(f, s->end);
        }
        break;
    }
}

bl_status bl_keys_dump(const bl_key_table *t, const void *base, const char *header, FILE *f) {
    BL_RETURN_IF(!t || !base || !f, BL_ERR_INVALID_ARG, "bl_keys_dump: no table, document or stream");
    if (header) fprintf(f, "# %s\n", header);
    const char *prev = "";
    for (size_t i = 0; i < t->n; i++) {
        const bl_config_key *k = &t->rows[i];
        if (k->flags & (BL_CK_ITEM | BL_CK_ALIAS)) continue;
        int d = 0;
        /* keep the sections this key shares with the previous one, open the others */
        while (prefix_len(k->path, d) && prefix_len(k->path, d) == prefix_len(prev, d) &&
               !strncmp(k->path, prev, prefix_len(k->path, d)))
            d++;
        for (size_t len; (len = prefix_len(k->path, d)); d++) {
            size_t start = d ? prefix_len(k->path, d - 1) + 1 : 0;
            fprintf(f, "%*s%.*s:\n", 2 * d, "", (int)(len - start), k->path + start);
        }
        const char *last = strrchr(k->path, '.');
        fprintf(f, "%*s%s:", 2 * d, "", last ? last + 1 : k->path);
        put_value(f, base, k, 2 * d);
        fputc('\n', f);
        prev = k->path;
    }
    BL_RETURN_IF(ferror(f), BL_ERR_IO, "writing the %s failed", t->what);
    return BL_OK;
}

bl_status bl_keys_dump_flat(const bl_key_table *t, const void *base, FILE *f) {
    BL_RETURN_IF(!t || !base || !f, BL_ERR_INVALID_ARG, "bl_keys_dump_flat: no table, document or stream");
    for (size_t i = 0; i < t->n; i++) {
        const bl_config_key *k = &t->rows[i];
        if (k->flags & (BL_CK_ITEM | BL_CK_ALIAS)) continue;
        if (k->type != BL_CK_SOURCES) {
            char *v = NULL;
            size_t vl = 0;
            FILE *m = open_memstream(&v, &vl);
            BL_RETURN_IF(!m, BL_ERR_NOMEM, "out of memory writing the %s", t->what);
            put_value(m, base, k, 0);
            fclose(m);
            fprintf(f, "%s=%s\n", k->path, v && v[0] == ' ' ? v + 1 : v ? v : ""); /* inline values start with ' ' */
            free(v);
            continue;
        }
        size_t n = 0;
        const bl_source_cfg *src = sources_of(base, k, &n);
        fprintf(f, "%s.count=%zu\n", k->path, n);
        for (size_t j = 0; j < n; j++) {
            const char *names[4] = {"path", "time_pattern", "start", "end"};
            const char *vals[4] = {src[j].path, src[j].time_pattern, src[j].start, src[j].end};
            for (int q = 0; q < 4; q++) {
                fprintf(f, "%s[%zu].%s=", k->path, j, names[q]);
                bl_config_put_string(f, vals[q]);
                fputc('\n', f);
            }
        }
    }
    BL_RETURN_IF(ferror(f), BL_ERR_IO, "writing the %s failed", t->what);
    return BL_OK;
}

bl_status bl_config_dump_flat(const bl_config *c, FILE *f) {
    BL_RETURN_IF(!c || !f, BL_ERR_INVALID_ARG, "bl_config_dump_flat: no config or stream");
    return bl_keys_dump_flat(&k_table, c, f);
}

bl_status bl_config_dump(const bl_config *c, FILE *f) {
    BL_RETURN_IF(!c || !f, BL_ERR_INVALID_ARG, "bl_config_dump: no config or stream");
    return bl_keys_dump(&k_table, c,
                        "baleen configuration, resolved: every key, defaults included (docs/config.md)", f);
}

static bool str_eq(const char *a, const char *b) { return a == b || (a && b && !strcmp(a, b)); }

bool bl_keys_equal(const bl_key_table *t, const void *a, const void *b) {
    if (!a || !b) return a == b;
    for (size_t i = 0; i < t->n; i++) {
        const bl_config_key *k = &t->rows[i];
        if (k->flags & (BL_CK_ITEM | BL_CK_ALIAS)) continue;
        const void *pa = cfield(a, k->off), *pb = cfield(b, k->off);
        switch (k->type) {
        case BL_CK_INT:
        case BL_CK_ENUM:
            if (*(const int *)pa != *(const int *)pb) return false;
            break;
        case BL_CK_DOUBLE:
            if (memcmp(pa, pb, sizeof(double)) && *(const double *)pa != *(const double *)pb) return false;
            break;
        case BL_CK_BOOL:
            if (*(const bool *)pa != *(const bool *)pb) return false;
            break;
        case BL_CK_STRING:
        case BL_CK_YAML:
            if (!str_eq(*(const char *const *)pa, *(const char *const *)pb)) return false;
            break;
        case BL_CK_STRLIST: {
            size_t n = *(const size_t *)cfield(a, k->count_off);
            if (n != *(const size_t *)cfield(b, k->count_off)) return false;
            for (size_t j = 0; j < n; j++)
                if (!str_eq((*(char *const *const *)pa)[j], (*(char *const *const *)pb)[j])) return false;
            break;
        }
        case BL_CK_SOURCES: {
            size_t na, nb;
            const bl_source_cfg *sa = sources_of(a, k, &na), *sb = sources_of(b, k, &nb);
            if (na != nb) return false;
            for (size_t j = 0; j < na; j++) {
                const bl_source_cfg *x = &sa[j], *y = &sb[j];
                if (!str_eq(x->path, y->path) || !str_eq(x->time_pattern, y->time_pattern) ||
                    !str_eq(x->start, y->start) || !str_eq(x->end, y->end))
                    return false;
            }
            break;
        }
        }
    }
    return true;
}

bool bl_config_equal(const bl_config *a, const bl_config *b) {
    if (!a || !b) return a == b;
    return bl_keys_equal(&k_table, a, b);
}
