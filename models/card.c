/* card.c — model cards (see card.h): the card's key table, loading and validation through
 * the config module's loader, the resolved front end, and the checks against a graph.
 *
 * Defines: bl_card_load, bl_card_load_string, bl_card_free, bl_card_find, bl_card_dump,
 * bl_card_write_keys_markdown, bl_card_write_keys_text, bl_card_resolve_frontend,
 * bl_card_check_graph, bl_card_input_index, bl_card_activation_needed,
 * bl_card_activation_name.
 *
 * The key table is built on the stack for each call from three parts: the card's own rows
 * before the front end, the config's `frontend.*` rows with their offsets moved from
 * bl_config to bl_model_card (so a frontend key has one definition: core/config_keys.c),
 * and the card's rows after it. The same build always gives the same rows, so the marks
 * kept in a card (indexed by row) stay meaningful between calls.
 *
 * Owns: nothing global. Threading: reentrant; a loaded card is read-only.
 */
#include "models/card.h"

#include <errno.h>    /* errno: why a card path cannot be examined */
#include <stdlib.h>   /* free */
#include <string.h>   /* strcmp, strncmp, strrchr, strdup, memcpy, memset */
#include <sys/stat.h> /* stat: is MODEL a directory, does model.yaml exist */
#include <unistd.h>   /* close */

#include "core/config_keys.h" /* the key tables and the loader they share with the config */
#include "core/infile.h"      /* the card file opened as every input is */

#define COFF(f) offsetof(bl_model_card, f)
#define N_OF(a) (sizeof(a) / sizeof((a)[0]))
/* Room for the card's rows and the config's frontend rows (about 20 today). */
#define CARD_MAX_ROWS 96

_Static_assert(sizeof(bl_card_activation) == sizeof(int), "enum size");
_Static_assert(sizeof(bl_card_layout) == sizeof(int), "enum size");

static const char *const k_activation[] = {"sigmoid", "softmax", "none"};
static const char *const k_layout[] = {"NCHW"};

/* A class name ends up in CSV and tab-separated Raven tables: keep it one clean field. */
static const char *check_class(const char *s) {
    static const char *const expect = "a non-empty class name without tabs, line breaks or surrounding spaces";
    size_t n = strlen(s);
    if (n == 0 || s[0] == ' ' || s[n - 1] == ' ') return expect;
    for (const unsigned char *p = (const unsigned char *)s; *p; p++)
        if (*p < 0x20 || *p == 0x7f) return expect;
    return NULL;
}

#define C_STR(p, field, fl, doc_) {.path = p, .type = BL_CK_STRING, .flags = fl, .off = COFF(field), .doc = doc_}

/* Rows before the front end (then `sample_rate`, built from the config's row). */
static const bl_config_key k_head[] = {
    C_STR("name", name, BL_CK_REQUIRED | BL_CK_NONEMPTY, "short name of the model, e.g. `whalecall-small`"),
    C_STR("version", version, BL_CK_REQUIRED | BL_CK_NONEMPTY, "version of the model and its card, e.g. `1.0.0`"),
    C_STR("description", description, BL_CK_NULLABLE, "what the model detects, in a sentence or two"),
};

/* Rows after the front end. */
static const bl_config_key k_tail[] = {
    C_STR("input.name", input.name, BL_CK_NULLABLE | BL_CK_NONEMPTY,
          "graph input fed with spectrogram windows; null = the graph's first (only) input"),
    {.path = "input.layout", .type = BL_CK_ENUM, .off = COFF(input.layout), .def_num = BL_LAYOUT_NCHW,
     .names = k_layout, .n_names = N_OF(k_layout),
     .doc = "NCHW = [N, 1, n_mels, window_frames]: mel bands low to high, frames oldest first"},
    {.path = "window_frames", .type = BL_CK_INT, .flags = BL_CK_REQUIRED, .off = COFF(window_frames),
     .lo = 1, .hi = 1000000, .doc = "spectrogram frames per model window (the input's last dimension)"},
    {.path = "hop_frames", .type = BL_CK_INT, .flags = BL_CK_REQUIRED, .off = COFF(hop_frames), .lo = 1,
     .hi = 1000000, .doc = "frames between the starts of successive windows (<= window_frames)"},
    {.path = "classes", .type = BL_CK_STRLIST, .flags = BL_CK_REQUIRED | BL_CK_UNIQUE, .off = COFF(classes),
     .count_off = COFF(n_classes), .check = check_class,
     .doc = "class names in the order of the model's outputs (at least one, each once)"},
    {.path = "output_activation", .type = BL_CK_ENUM, .off = COFF(output_activation),
     .def_num = BL_ACT_SIGMOID, .names = k_activation, .n_names = N_OF(k_activation),
     .doc = "turns outputs into scores; applied only when the graph does not already end with it"},
    C_STR("licence", licence, BL_CK_REQUIRED | BL_CK_NONEMPTY, "licence of the weights, e.g. `MIT` or `CC-BY-4.0`"),
    C_STR("license", licence, BL_CK_ALIAS | BL_CK_NONEMPTY, "another spelling of `licence`"),
    C_STR("trained_on", trained_on, BL_CK_NULLABLE, "the data the model was trained on"),
    {.path = "metrics", .type = BL_CK_YAML, .off = COFF(metrics),
     .doc = "free-form evaluation results (e.g. precision and recall on held-out data), kept as given"},
    C_STR("authors", authors, BL_CK_NULLABLE, "who made the model"),
    C_STR("url", url, BL_CK_NULLABLE, "where the model and its training code live"),
};

typedef struct {
    bl_key_table t;
    bl_config_key rows[CARD_MAX_ROWS];
} card_keys;

/* Build the card's table into K. False only if the config grew past CARD_MAX_ROWS. */
static bool card_table(card_keys *K) {
    size_t nc, n = 0;
    const bl_config_key *cfg = bl_config_keys(&nc);
    const size_t fe_base = offsetof(bl_config, frontend);
    memset(K, 0, sizeof *K);
    for (size_t i = 0; i < N_OF(k_head); i++) K->rows[n++] = k_head[i];
    int sr = bl_config_key_find("frontend.sample_rate", false);
    if (sr < 0) return false;
    K->rows[n] = cfg[sr]; /* the same type and range as the front end's own sample_rate */
    K->rows[n].path = "sample_rate";
    K->rows[n].off = COFF(sample_rate);
    K->rows[n].flags |= BL_CK_REQUIRED;
    K->rows[n++].doc = "Hz: the rate the model was trained at; audio is resampled to it";
    for (size_t i = 0; i < nc; i++) {
        if (strncmp(cfg[i].path, "frontend.", 9) || (cfg[i].flags & BL_CK_ITEM)) continue;
        if (n == CARD_MAX_ROWS) return false;
        bl_config_key *r = &K->rows[n++];
        *r = cfg[i];
        r->off = r->off - fe_base + COFF(frontend);
        if ((int)i == sr) {
            r->flags |= BL_CK_DEF_KEY;
            r->def_str = "sample_rate";
            r->doc = "Hz; may be left out: it must equal sample_rate";
        }
    }
    if (n + N_OF(k_tail) > CARD_MAX_ROWS) return false;
    for (size_t i = 0; i < N_OF(k_tail); i++) K->rows[n++] = k_tail[i];
    K->t = (bl_key_table){
        .rows = K->rows,
        .n = n,
        .items = NULL,
        .what = "model card",
        .example = "name",
        .keys_hint = "docs/models.md, \"Model cards\"",
        .too_many = "; a model card is a short file",
    };
    return true;
}

#define CARD_TABLE(K)                                                                               \
    do {                                                                                            \
        if (!card_table(&(K)))                                                                      \
            return BL_ERROR(BL_ERR_INTERNAL, "the model card's key table is too small for the " \
                                             "config's frontend keys (CARD_MAX_ROWS)");             \
    } while (0)

#define CFAIL(...) return bl_error_set(BL_ERR_CONFIG, __FILE__, __LINE__, __VA_ARGS__)

/* "model.yaml:7:3: " where the card set `path`, else "model.yaml: ". */
static const char *card_where(const card_keys *K, const bl_model_card *card, const char *path, char *buf,
                              size_t cap) {
    bl_keys_where(card->marks, card->path, bl_keys_find(&K->t, path, false), buf, cap);
    if (!buf[0]) snprintf(buf, cap, "%s: ", card->path ? card->path : "<card>");
    return buf;
}

typedef struct {
    const card_keys *K;
    const bl_model_card *card;
    const bl_config *cfg; /* NULL while checking the card alone */
} loc_ctx;

/* For the front-end rules: where a value came from — the config when it set the key, else
 * the card (frontend.sample_rate falls back to the card's sample_rate). */
static const char *front_loc(const void *vctx, const char *path, char *buf, size_t cap) {
    const loc_ctx *x = vctx;
    buf[0] = '\0';
    if (x->cfg && bl_config_key_is_set(x->cfg, path)) {
        const bl_key_table *ct = bl_config_table();
        bl_keys_where(x->cfg->marks, x->cfg->origin, bl_keys_find(ct, path, false), buf, cap);
        return buf;
    }
    const card_keys *K = x->K;
    bl_keys_where(x->card->marks, x->card->path, bl_keys_find(&K->t, path, false), buf, cap);
    if (!buf[0] && !strcmp(path, "frontend.sample_rate"))
        bl_keys_where(x->card->marks, x->card->path, bl_keys_find(&K->t, "sample_rate", false), buf, cap);
    return buf;
}

static bl_status card_validate(const card_keys *K, bl_model_card *card) {
    BL_TRY(bl_keys_validate(&K->t, card, card->marks, card->path));
    char where[600], where2[600];
    int i_fsr = bl_keys_find(&K->t, "frontend.sample_rate", false);
    if (bl_keys_marked(card->marks, i_fsr) && card->frontend.sample_rate != card->sample_rate)
        CFAIL("%sfrontend.sample_rate: must equal sample_rate (%d, %.*s), got %d; give the rate once, as "
              "sample_rate",
              card_where(K, card, "frontend.sample_rate", where, sizeof where), card->sample_rate,
              (int)strlen(card_where(K, card, "sample_rate", where2, sizeof where2)) - 2, where2,
              card->frontend.sample_rate);
    card->frontend.sample_rate = card->sample_rate;
    if (card->hop_frames > card->window_frames)
        CFAIL("%shop_frames: must be <= window_frames (%d) so that every frame is scored, got %d",
              card_where(K, card, "hop_frames", where, sizeof where), card->window_frames, card->hop_frames);
    loc_ctx x = {.K = K, .card = card};
    return bl_keys_check_frontend(&card->frontend, front_loc, &x);
}

bl_status bl_card_load_string(const char *text, size_t len, const char *name, bl_model_card *card) {
    BL_RETURN_IF(!card, BL_ERR_INVALID_ARG, "bl_card_load_string: no card");
    memset(card, 0, sizeof *card);
    BL_RETURN_IF(!text && len, BL_ERR_INVALID_ARG, "bl_card_load_string: no text");
    card_keys K;
    CARD_TABLE(K);
    BL_CHECK_ALLOC(card->path = strdup(name ? name : "<card>"));
    BL_TRY(bl_keys_marks_new(&K.t, &card->marks));
    BL_TRY(bl_keys_defaults(&K.t, card));
    BL_TRY(bl_keys_load_text(&K.t, card, card->marks, text, len, card->path));
    return card_validate(&K, card);
}

bl_status bl_card_load(const char *path_or_dir, bl_model_card *card) {
    BL_RETURN_IF(!card, BL_ERR_INVALID_ARG, "bl_card_load: no card");
    memset(card, 0, sizeof *card);
    BL_RETURN_IF(!path_or_dir, BL_ERR_INVALID_ARG, "bl_card_load: no path");
    card_keys K;
    CARD_TABLE(K);
    char path[4096];
    BL_TRY(bl_card_find(path_or_dir, path, sizeof path));
    BL_CHECK_ALLOC(card->path = strdup(path));
    BL_TRY(bl_keys_marks_new(&K.t, &card->marks));
    BL_TRY(bl_keys_defaults(&K.t, card));
    BL_TRY(bl_keys_load_file(&K.t, card, card->marks, path));
    return card_validate(&K, card);
}

void bl_card_free(bl_model_card *card) {
    if (!card) return;
    card_keys K;
    if (card_table(&K)) bl_keys_free_values(&K.t, card); /* else nothing was ever loaded */
    bl_keys_marks_free(card->marks);
    free(card->path);
    memset(card, 0, sizeof *card);
}

static bool ends_with(const char *s, const char *suffix) {
    size_t n = strlen(s), m = strlen(suffix);
    return n >= m && !strcmp(s + n - m, suffix);
}

bl_status bl_card_find(const char *model, char *out, size_t cap) {
    BL_RETURN_IF(!model || !out || !cap, BL_ERR_INVALID_ARG, "bl_card_find: no model or buffer");
    struct stat st;
    if (stat(model, &st) != 0)
        return BL_ERROR(BL_ERR_NOT_FOUND, "no model card: '%s': %s", model, strerror(errno));
    int w;
    if (S_ISDIR(st.st_mode)) {
        size_t n = strlen(model);
        w = snprintf(out, cap, "%s%s%s", model, n && model[n - 1] == '/' ? "" : "/", BL_CARD_FILE);
    } else if (ends_with(model, ".yaml") || ends_with(model, ".yml")) {
        w = snprintf(out, cap, "%s", model);
    } else {
        const char *slash = strrchr(model, '/');
        const char *base = slash ? slash + 1 : model;
        if (strcmp(base, "model.onnx"))
            return BL_ERROR(BL_ERR_NOT_FOUND,
                            "no model card for '%s': a card is the model.yaml of a model directory "
                            "(model.onnx + model.yaml); give the directory", model);
        w = snprintf(out, cap, "%.*s%s", (int)(base - model), model, BL_CARD_FILE);
    }
    BL_RETURN_IF(w < 0 || (size_t)w >= cap, BL_ERR_INVALID_ARG, "model path too long: '%.200s...'", model);
    if (stat(out, &st) != 0)
        return BL_ERROR(BL_ERR_NOT_FOUND,
                        "no model card: '%s' does not exist (a model directory holds model.onnx and "
                        "model.yaml; see docs/models.md, \"Model cards\")", out);
    int fd = -1; /* the same checks as every input file: a FIFO or a device is named as such */
    if (bl_infile_open(out, "model card", &fd, NULL) != BL_OK) {
        char *msg = strdup(bl_error_message());
        bl_status s = BL_ERROR(msg ? BL_ERR_CONFIG : BL_ERR_NOMEM, "%s", msg ? msg : "out of memory");
        free(msg);
        return s;
    }
    close(fd);
    return BL_OK;
}

bl_status bl_card_dump(const bl_model_card *card, FILE *f) {
    BL_RETURN_IF(!card || !f, BL_ERR_INVALID_ARG, "bl_card_dump: no card or stream");
    card_keys K;
    CARD_TABLE(K);
    return bl_keys_dump(&K.t, card, "baleen model card, resolved: every key, defaults included (docs/models.md)", f);
}

bl_status bl_card_write_keys_markdown(FILE *f) {
    card_keys K;
    CARD_TABLE(K);
    return bl_keys_write_markdown(&K.t, f);
}

bl_status bl_card_write_keys_text(FILE *f) {
    card_keys K;
    CARD_TABLE(K);
    return bl_keys_write_text(&K.t, f);
}

/* ---- running the model: front end and graph ------------------------------------------- */

bl_status bl_card_resolve_frontend(const bl_model_card *card, const bl_config *cfg,
                                   bl_frontend_params *out) {
    BL_RETURN_IF(!card || !out, BL_ERR_INVALID_ARG, "bl_card_resolve_frontend: no card or output");
    card_keys K;
    CARD_TABLE(K);
    *out = card->frontend;
    const size_t fe_base = offsetof(bl_config, frontend);
    size_t nc;
    const bl_config_key *rows = bl_config_keys(&nc);
    for (size_t i = 0; cfg && i < nc; i++) {
        const bl_config_key *k = &rows[i];
        if (strncmp(k->path, "frontend.", 9) || !bl_config_key_is_set(cfg, k->path)) continue;
        size_t size = k->type == BL_CK_DOUBLE ? sizeof(double)
                      : k->type == BL_CK_BOOL ? sizeof(bool)
                      : k->type == BL_CK_INT || k->type == BL_CK_ENUM ? sizeof(int)
                                                                       : 0;
        BL_RETURN_IF(!size, BL_ERR_INTERNAL, "bl_card_resolve_frontend: cannot copy key %s", k->path);
        memcpy((char *)out + (k->off - fe_base), (const char *)cfg + k->off, size);
    }
    char where[600], card_at[600];
    loc_ctx x = {.K = &K, .card = card, .cfg = cfg};
    if (out->sample_rate != card->sample_rate) {
        front_loc(&x, "frontend.sample_rate", where, sizeof where);
        CFAIL("%sfrontend.sample_rate: the model '%s' takes %d Hz audio (%ssample_rate), not %d; "
              "remove frontend.sample_rate from the config: the card sets it",
              where, card->name, card->sample_rate, card_where(&K, card, "sample_rate", card_at, sizeof card_at),
              out->sample_rate);
    }
    if (out->mel.n_mels != card->frontend.mel.n_mels) {
        front_loc(&x, "frontend.mel.n_mels", where, sizeof where);
        CFAIL("%sfrontend.mel.n_mels: the model '%s' takes %d mel bands (%sfrontend.mel.n_mels), not %d; "
              "remove frontend.mel.n_mels from the config: the card sets it",
              where, card->name, card->frontend.mel.n_mels,
              card_where(&K, card, "frontend.mel.n_mels", card_at, sizeof card_at), out->mel.n_mels);
    }
    return bl_keys_check_frontend(out, front_loc, &x);
}

int bl_card_input_index(const bl_model_card *card, const bl_graph *g) {
    if (!card || !g || g->n_inputs <= 0) return -1;
    if (!card->input.name) return 0;
    for (int i = 0; i < g->n_inputs; i++)
        if (!strcmp(g->tensors[g->inputs[i]].name, card->input.name)) return i;
    return -1;
}

/* "a, b, c": the graph's input names. */
static void input_names(const bl_graph *g, char *out, size_t cap) {
    size_t used = 0;
    out[0] = '\0';
    for (int i = 0; i < g->n_inputs && used < cap; i++) {
        int w = snprintf(out + used, cap - used, "%s'%s'", i ? ", " : "", g->tensors[g->inputs[i]].name);
        if (w > 0) used += (size_t)w;
    }
}

bl_status bl_card_check_graph(const bl_model_card *card, const bl_graph *g) {
    BL_RETURN_IF(!card || !g, BL_ERR_INVALID_ARG, "bl_card_check_graph: no card or graph");
    card_keys K;
    CARD_TABLE(K);
    char where[600], names[512], shape[128];
    const char *model = g->path && g->path[0] ? g->path : "the model";
    input_names(g, names, sizeof names);
    if (g->n_inputs == 0) CFAIL("%s has no inputs; baleen feeds it spectrogram windows", model);
    int ii = bl_card_input_index(card, g);
    if (ii < 0)
        CFAIL("%sinput.name: %s has no input '%s'; its inputs are %s",
              card_where(&K, card, "input.name", where, sizeof where), model, card->input.name, names);
    if (!card->input.name && g->n_inputs > 1)
        CFAIL("%s%s has %d inputs (%s); say which takes the spectrogram windows with input.name",
              card_where(&K, card, "input.name", where, sizeof where), model, g->n_inputs, names);
    const bl_tensor *in = &g->tensors[g->inputs[ii]];
    bl_tensor_shape_str(in, shape, sizeof shape);
    if (in->dtype != BL_DT_FLOAT)
        CFAIL("%s: input '%s' is %s; baleen feeds float32 spectrograms", model, in->name, bl_dtype_name(in->dtype));
    if (in->rank != 4 || in->dims[1] != 1)
        CFAIL("%sinput.layout: NCHW means [N, 1, n_mels, window_frames], but input '%s' of %s is %s",
              card_where(&K, card, "input.layout", where, sizeof where), in->name, model, shape);
    if (in->dims[2] != card->frontend.mel.n_mels)
        CFAIL("%sfrontend.mel.n_mels: the card says %d, but input '%s' of %s is %s (n_mels is dimension 2 "
              "of [N, 1, n_mels, window_frames])",
              card_where(&K, card, "frontend.mel.n_mels", where, sizeof where), card->frontend.mel.n_mels,
              in->name, model, shape);
    if (in->dims[3] != card->window_frames)
        CFAIL("%swindow_frames: the card says %d, but input '%s' of %s is %s (window_frames is dimension 3 "
              "of [N, 1, n_mels, window_frames])",
              card_where(&K, card, "window_frames", where, sizeof where), card->window_frames, in->name, model,
              shape);
    if (g->n_outputs == 0) CFAIL("%s has no outputs", model);
    const bl_tensor *out = &g->tensors[g->outputs[0]];
    bl_tensor_shape_str(out, shape, sizeof shape);
    if (out->rank != 2 || out->dims[0] != in->dims[0])
        CFAIL("%s: output '%s' is %s; baleen reads one score per class and window: [N, classes] with the "
              "input's batch dimension", model, out->name, shape);
    if (out->dims[1] < 0 || (size_t)out->dims[1] != card->n_classes)
        CFAIL("%sclasses: the card names %zu classes, but output '%s' of %s is %s (one score per class)",
              card_where(&K, card, "classes", where, sizeof where), card->n_classes, out->name, model, shape);
    return BL_OK;
}

bool bl_card_activation_needed(const bl_model_card *card, const bl_graph *g) {
    if (!card || card->output_activation == BL_ACT_NONE) return false;
    if (!g || g->n_outputs == 0) return true;
    bl_op want = card->output_activation == BL_ACT_SIGMOID ? BL_OP_SIGMOID : BL_OP_SOFTMAX;
    int t = g->outputs[0];
    for (int steps = 0; steps <= g->n_nodes && t >= 0 && t < g->n_tensors; steps++) {
        int p = g->tensors[t].producer;
        if (p < 0 || p >= g->n_nodes) return true;
        const bl_node *n = &g->nodes[p];
        if (n->op == want || (n->fused_act != BL_OP_NONE && n->fused_act == want)) return false;
        switch (n->op) { /* ops that move scores around without changing them */
        case BL_OP_RESHAPE:
        case BL_OP_FLATTEN:
        case BL_OP_SQUEEZE:
        case BL_OP_UNSQUEEZE:
        case BL_OP_IDENTITY:
        case BL_OP_DROPOUT: t = n->n_inputs > 0 ? n->inputs[0] : -1; break;
        default: return true;
        }
    }
    return true;
}

const char *bl_card_activation_name(bl_card_activation a) {
    return (unsigned)a < N_OF(k_activation) ? k_activation[a] : "?";
}
