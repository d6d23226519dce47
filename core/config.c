/* config.c — the YAML loader behind every key table (config_keys.h), and the run config's
 * loading and overriding (see config.h).
 *
 * Defines: bl_keys_load_text, bl_keys_load_file, bl_keys_defaults, bl_keys_free_values, the
 * marks (bl_keys_marks_new/free, bl_keys_marked, bl_keys_where), bl_keys_parse_double,
 * bl_keys_in_range; and bl_config_init_defaults, bl_config_load_file,
 * bl_config_load_string, bl_config_set, bl_config_key_is_set, bl_config_free. (The tables,
 * validation, the dump, comparison and the key reference live in config_keys.c.)
 *
 * How it works: libyaml's event parser builds a small tree of scalars, lists and mappings
 * that remembers each node's line and column (anchors, aliases, nesting deeper than
 * BL_CFG_MAX_DEPTH, scalars over BL_CFG_MAX_SCALAR bytes and inputs over BL_CFG_MAX_BYTES
 * are refused before they can cost memory or time). The tree is then walked against a key
 * table, which knows every key's type, range and offset from the document's base. The same
 * walk serves config files, `--set` values and model cards (models/card.c), so all give the
 * same messages. Free-form values (BL_CK_YAML) are kept as one line of flow-style YAML.
 *
 * Owns: nothing global. A document owns its strings, arrays and marks (where each key was
 * last set, for the messages of validation).
 * Threading: functions touch only the document passed in; the error message is per thread.
 */
#include "config.h"

#include <errno.h>   /* errno of strtod/strtoll */
#include <math.h>    /* isfinite: NaN/Inf never pass a range check */
#include <stdarg.h>  /* the printf-style error helper */
#include <stdlib.h>  /* malloc, strtoll, strtod */
#include <string.h>  /* strdup, strcmp, memcmp */
#include <strings.h> /* strcasecmp for YAML 1.1 booleans */
#include <yaml.h>    /* libyaml: the event parser */

#include "config_keys.h" /* the key table and its helpers */
#include "infile.h"      /* the config file: opened without blocking, size checked first */

#define BL_CFG_MAX_BYTES ((size_t)16 << 20) /* a config is small; refuse a runaway file */
#define BL_CFG_MAX_SCALAR 65536              /* longest single value (paths, patterns) */
#define BL_CFG_MAX_DEPTH 32                  /* the schema needs 4; anything deeper is junk */
#define BL_CFG_MAX_NODES 200000              /* ~100 bytes each: bounds the tree's memory */

/* ---- where keys were set ------------------------------------------------------------- */

typedef struct {
    int line, col; /* 1-based; 0 = not set from text */
    int set;       /* index into set_args when set by --set, else -1 */
} bl_mark;

struct bl_config_marks {
    char **set_args; /* copies of the --set arguments applied so far */
    size_t n_set;
    size_t n_keys;
    bl_mark m[]; /* one per row of the key table */
};

/* ---- the YAML tree ------------------------------------------------------------------- */

typedef enum { YN_SCALAR, YN_SEQ, YN_MAP } yn_kind;

typedef struct ynode {
    yn_kind kind;
    int line, col; /* 1-based position of the node's first character */
    bool plain;    /* plain (unquoted) scalar: only those can be null */
    char *s;       /* scalar text, NUL-terminated (NUL inside is refused) */
    size_t len;
    struct ynode **kid; /* list items, or mapping keys and values interleaved */
    size_t n, cap;
} ynode;

/* Where text comes from, for messages: a file (or string name), or one --set argument. */
typedef struct {
    const bl_key_table *T; /* the kind of document: its name and hints in messages */
    const char *name;
    bool is_set;
    const char *text; /* the text parsed (to turn a byte offset into line:column) */
    size_t len;
} ysrc;

static void ynode_free(ynode *n) {
    if (!n) return;
    for (size_t i = 0; i < n->n; i++) ynode_free(n->kid[i]);
    free(n->kid);
    free(n->s);
    free(n);
}

static bool ynode_is_null(const ynode *n) {
    if (!n) return true;
    if (n->kind != YN_SCALAR || !n->plain) return false;
    return n->len == 0 || !strcmp(n->s, "~") || !strcmp(n->s, "null") || !strcmp(n->s, "Null") ||
           !strcmp(n->s, "NULL");
}

/* A --set argument in a message: at most BL_SET_SHOW bytes of it, then "...", so that a long
 * one leaves room for what is wrong with it (the message buffer holds 1 KiB). */
#define BL_SET_SHOW 200
#define BL_SET_ARG(a) BL_SET_SHOW, (a), strlen(a) > BL_SET_SHOW ? "..." : ""

static void loc_format(const ysrc *src, int line, int col, char *buf, size_t cap) {
    if (src->is_set) snprintf(buf, cap, "--set %.*s%s", BL_SET_ARG(src->name));
    else if (line > 0) snprintf(buf, cap, "%s:%d:%d", src->name, line, col);
    else snprintf(buf, cap, "%s", src->name);
}

/* BL_ERR_CONFIG with "LOCATION: message". */
__attribute__((format(printf, 4, 5))) static bl_status fail_at(const ysrc *src, int line, int col,
                                                               const char *fmt, ...) {
    char where[512], msg[768];
    loc_format(src, line, col, where, sizeof where);
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    return bl_error_set(BL_ERR_CONFIG, __FILE__, __LINE__, "%s: %s", where, msg);
}

/* How a value is named in a message: "abc" (quoted, escaped, shortened), null, a list... */
static const char *describe(const ynode *v, char *buf, size_t cap) {
    if (ynode_is_null(v)) return "null";
    if (v->kind == YN_MAP) return "a mapping";
    if (v->kind == YN_SEQ) return "a list";
    size_t used = 0;
    buf[used++] = '"';
    for (size_t i = 0; i < v->len && used + 8 < cap; i++) {
        unsigned char ch = (unsigned char)v->s[i];
        if (i >= 48) {
            used += (size_t)snprintf(buf + used, cap - used, "...");
            break;
        }
        if (ch == '"' || ch == '\\') used += (size_t)snprintf(buf + used, cap - used, "\\%c", ch);
        else if (ch < 0x20 || ch == 0x7f) used += (size_t)snprintf(buf + used, cap - used, "\\x%02X", ch);
        else buf[used++] = (char)ch;
    }
    buf[used++] = '"';
    buf[used] = '\0';
    return buf;
}

static void offset_to_linecol(const ysrc *src, size_t off, int *line, int *col) {
    *line = 1;
    *col = 1;
    for (size_t i = 0; i < off && i < src->len; i++) {
        if (src->text[i] == '\n') {
            ++*line;
            *col = 1;
        } else ++*col;
    }
}

static bl_status syntax_error(const yaml_parser_t *p, const ysrc *src) {
    if (p->error == YAML_MEMORY_ERROR)
        return BL_ERROR(BL_ERR_NOMEM, "%s: out of memory parsing YAML", src->name);
    int line = (int)p->problem_mark.line + 1, col = (int)p->problem_mark.column + 1;
    const char *problem = p->problem ? p->problem : "malformed YAML";
    if (p->error == YAML_READER_ERROR) {
        offset_to_linecol(src, p->problem_offset, &line, &col);
        if (p->problem_value >= 0)
            return fail_at(src, line, col, "%s (byte 0x%02X); a %s must be UTF-8 text", problem,
                           (unsigned)p->problem_value & 0xFFu, src->T->what);
        return fail_at(src, line, col, "%s; a %s must be UTF-8 text", problem, src->T->what);
    }
    if (src->is_set)
        return fail_at(src, 0, 0, "the value is not valid YAML: %s (quote it, e.g. --set 'model=\"a b\"')",
                       problem);
    if (p->context)
        return fail_at(src, line, col, "YAML syntax error: %s (%s at line %d, column %d)", problem,
                       p->context, (int)p->context_mark.line + 1, (int)p->context_mark.column + 1);
    return fail_at(src, line, col, "YAML syntax error: %s", problem);
}

static bl_status ynode_add(ynode *parent, ynode *child) {
    if (parent->n == parent->cap) {
        size_t cap = parent->cap ? 2 * parent->cap : 8;
        ynode **k = realloc(parent->kid, cap * sizeof *k);
        BL_CHECK_ALLOC(k);
        parent->kid = k;
        parent->cap = cap;
    }
    parent->kid[parent->n++] = child;
    return BL_OK;
}

/* Parse `text` (one YAML document at most) into a tree; *out is NULL for an empty stream. */
static bl_status ynode_parse(const ysrc *src, ynode **out) {
    *out = NULL;
    yaml_parser_t p;
    if (!yaml_parser_initialize(&p)) return BL_ERROR(BL_ERR_NOMEM, "out of memory starting libyaml");
    yaml_parser_set_input_string(&p, (const unsigned char *)(src->text ? src->text : ""), src->len);
    ynode *root = NULL, *stack[BL_CFG_MAX_DEPTH];
    int depth = 0, docs = 0;
    size_t n_nodes = 0;
    bl_status s = BL_OK;
    for (bool done = false; !done && s == BL_OK;) {
        yaml_event_t ev;
        if (!yaml_parser_parse(&p, &ev)) {
            s = syntax_error(&p, src);
            break;
        }
        int line = (int)ev.start_mark.line + 1, col = (int)ev.start_mark.column + 1;
        ynode *node = NULL;
        const unsigned char *anchor = NULL;
        switch (ev.type) {
        case YAML_STREAM_END_EVENT: done = true; break;
        case YAML_DOCUMENT_START_EVENT:
            if (++docs > 1)
                s = fail_at(src, line, col,
                            "a second YAML document ('---'); a %s is a single document", src->T->what);
            break;
        case YAML_ALIAS_EVENT:
            s = fail_at(src, line, col,
                        "aliases (*%.64s) are not supported; write the value out in full",
                        (const char *)ev.data.alias.anchor);
            break;
        case YAML_SCALAR_EVENT:
            anchor = ev.data.scalar.anchor;
            if (anchor) break;
            if (ev.data.scalar.length > BL_CFG_MAX_SCALAR) {
                s = fail_at(src, line, col, "a value of %zu bytes; the longest allowed is %d",
                            (size_t)ev.data.scalar.length, BL_CFG_MAX_SCALAR);
                break;
            }
            if (memchr(ev.data.scalar.value, '\0', ev.data.scalar.length)) {
                s = fail_at(src, line, col, "a value holds a NUL character (\\0), which is not allowed");
                break;
            }
            node = calloc(1, sizeof *node);
            if (node) node->s = malloc(ev.data.scalar.length + 1);
            if (!node || !node->s) {
                free(node);
                node = NULL;
                s = BL_ERROR(BL_ERR_NOMEM, "out of memory reading %s", src->name);
                break;
            }
            memcpy(node->s, ev.data.scalar.value, ev.data.scalar.length);
            node->s[ev.data.scalar.length] = '\0';
            node->len = ev.data.scalar.length;
            node->kind = YN_SCALAR;
            node->plain = ev.data.scalar.style == YAML_PLAIN_SCALAR_STYLE;
            break;
        case YAML_SEQUENCE_START_EVENT:
        case YAML_MAPPING_START_EVENT:
            anchor = ev.type == YAML_SEQUENCE_START_EVENT ? ev.data.sequence_start.anchor
                                                          : ev.data.mapping_start.anchor;
            if (anchor) break;
            if (depth == BL_CFG_MAX_DEPTH) {
                s = fail_at(src, line, col, "nesting deeper than %d levels", BL_CFG_MAX_DEPTH);
                break;
            }
            node = calloc(1, sizeof *node);
            if (!node) {
                s = BL_ERROR(BL_ERR_NOMEM, "out of memory reading %s", src->name);
                break;
            }
            node->kind = ev.type == YAML_SEQUENCE_START_EVENT ? YN_SEQ : YN_MAP;
            break;
        case YAML_SEQUENCE_END_EVENT:
        case YAML_MAPPING_END_EVENT:
            if (depth > 0) depth--;
            break;
        default: break;
        }
        if (anchor)
            s = fail_at(src, line, col,
                        "anchors (&%.64s) are not supported; write each value out in full",
                        (const char *)anchor);
        yaml_event_delete(&ev);
        if (!node) continue;
        if (++n_nodes > BL_CFG_MAX_NODES) {
            ynode_free(node);
            s = fail_at(src, line, col, "more than %d values%s", BL_CFG_MAX_NODES, src->T->too_many);
            break;
        }
        node->line = line;
        node->col = col;
        if (depth == 0) {
            root = node; /* a second root would need a second document, refused above */
        } else {
            ynode *top = stack[depth - 1];
            if (top->kind == YN_MAP && top->n % 2 == 0 && node->kind != YN_SCALAR) {
                ynode_free(node);
                s = fail_at(src, line, col, "a list or mapping used as a key; keys are plain words");
                break;
            }
            s = ynode_add(top, node);
            if (s != BL_OK) {
                ynode_free(node);
                break;
            }
        }
        if (node->kind != YN_SCALAR) stack[depth++] = node;
    }
    yaml_parser_delete(&p);
    if (s != BL_OK) {
        ynode_free(root);
        return s;
    }
    *out = root;
    return BL_OK;
}

/* ---- applying the tree to a config --------------------------------------------------- */

typedef struct {
    const bl_key_table *T;
    void *base;                    /* the document the rows' offsets point into */
    struct bl_config_marks *marks; /* where each row was set */
    const ysrc *src;
    int set_idx; /* the --set argument being applied, or -1 */
} ld;

static void *field(void *base, size_t off) { return (char *)base + off; }

static bool parse_int(const char *s, long long *out) {
    const char *p = s + (s[0] == '+' || s[0] == '-');
    if (*p < '0' || *p > '9') return false;
    char *end;
    errno = 0;
    long long v = strtoll(s, &end, 10);
    if (errno || *end) return false;
    *out = v;
    return true;
}

bool bl_keys_parse_double(const char *s, double *out) {
    const char *p = s + (s[0] == '+' || s[0] == '-');
    if (!((*p >= '0' && *p <= '9') || *p == '.') || strpbrk(s, "xXpP")) return false;
    char *end;
    double v = strtod(s, &end);
    if (*end || !isfinite(v)) return false;
    *out = v;
    return true;
}

static bool parse_bool(const char *s, bool *out) {
    static const char *const yes[] = {"true", "yes", "on"}, *const no[] = {"false", "no", "off"};
    for (int i = 0; i < 3; i++) {
        if (!strcasecmp(s, yes[i])) return (*out = true);
        if (!strcasecmp(s, no[i])) return !(*out = false);
    }
    return false;
}

bool bl_keys_in_range(const bl_config_key *k, double v) {
    if (!isfinite(v)) return false;
    bool lo_ok = (k->flags & BL_CK_LO_OPEN) ? v > k->lo : v >= k->lo;
    bool hi_ok = (k->flags & BL_CK_HI_OPEN) ? v < k->hi : v <= k->hi;
    return lo_ok && hi_ok;
}

static void mark(ld *L, int idx, const ynode *v) {
    /* an alias marks the row it stands for too, so that `required` sees either spelling */
    for (int i = idx;; i = bl_keys_canonical(L->T, i)) {
        bl_mark *m = &L->marks->m[i];
        m->line = L->src->is_set ? 0 : v->line;
        m->col = L->src->is_set ? 0 : v->col;
        m->set = L->set_idx;
        if (bl_keys_canonical(L->T, i) == i) break;
    }
}

static bl_status type_error(ld *L, const bl_config_key *k, const char *path, const ynode *v) {
    char exp[256], got[160];
    bl_config_key_expected(k, exp, sizeof exp);
    return fail_at(L->src, v->line, v->col, "%s: expected %s, got %s", path, exp,
                   describe(v, got, sizeof got));
}

static bl_status check_dup(const ysrc *src, const char *path, const ynode *map, size_t pair) {
    const ynode *k = map->kid[2 * pair];
    for (size_t j = 0; j < pair; j++) {
        const ynode *o = map->kid[2 * j];
        if (o->len == k->len && !memcmp(o->s, k->s, k->len))
            return fail_at(src, k->line, k->col, "%s: duplicate key (first given at line %d, column %d)",
                           path, o->line, o->col);
    }
    return BL_OK;
}

static bl_status unknown_key(ld *L, const char *path, const ynode *at) {
    char prefix[256], hint[256], list[512];
    const char *dot = strrchr(path, '.');
    snprintf(prefix, sizeof prefix, "%.*s", dot ? (int)(dot - path) : 0, path);
    const char *key = dot ? dot + 1 : path;
    if (bl_keys_suggest(L->T, prefix, key, hint, sizeof hint))
        return fail_at(L->src, at->line, at->col, "%s: unknown key (did you mean '%s'?)", path, hint);
    if (bl_keys_is_section(L->T, prefix)) {
        bl_keys_children(L->T, prefix, list, sizeof list);
        return fail_at(L->src, at->line, at->col, "%s: unknown key; the keys %s%s are: %s", path,
                       prefix[0] ? "of " : "at the top level", prefix, list);
    }
    return fail_at(L->src, at->line, at->col, "%s: unknown key (see %s)", path, L->T->keys_hint);
}

static bl_status apply_at(ld *L, const char *path, const ynode *keynode, const ynode *v);

/* Two spellings of one key (an alias and its row) in one mapping. */
static bl_status check_alias_dup(ld *L, const char *prefix, const char *path, const ynode *map,
                                 size_t pair) {
    int r = bl_keys_find(L->T, path, false);
    if (r < 0) return BL_OK;
    r = bl_keys_canonical(L->T, r);
    for (size_t j = 0; j < pair; j++) {
        const ynode *o = map->kid[2 * j];
        char opath[320];
        snprintf(opath, sizeof opath, "%s%s%.200s", prefix, prefix[0] ? "." : "", o->s);
        int q = o->len <= 200 ? bl_keys_find(L->T, opath, false) : -1;
        if (q >= 0 && bl_keys_canonical(L->T, q) == r) {
            const ynode *k = map->kid[2 * pair];
            return fail_at(L->src, k->line, k->col,
                           "%s: already given as '%s' at line %d, column %d (they are one key)", path,
                           opath, o->line, o->col);
        }
    }
    return BL_OK;
}

static bl_status apply_map(ld *L, const char *prefix, const ynode *map) {
    for (size_t i = 0; i + 1 < map->n; i += 2) {
        const ynode *k = map->kid[i], *v = map->kid[i + 1];
        char path[320];
        snprintf(path, sizeof path, "%s%s%.200s%s", prefix, prefix[0] ? "." : "", k->s,
                 k->len > 200 ? "..." : "");
        if (k->len > 200 || memchr(k->s, '.', k->len)) {
            if (k->len <= 200 && bl_keys_find(L->T, path, false) >= 0)
                return fail_at(L->src, k->line, k->col,
                               "%s: write nested keys as nested mappings, not with dots "
                               "(e.g. frontend: {n_fft: 512})", path);
            return unknown_key(L, path, k);
        }
        BL_TRY(check_dup(L->src, path, map, i / 2));
        BL_TRY(check_alias_dup(L, prefix, path, map, i / 2));
        BL_TRY(apply_at(L, path, k, v));
    }
    return BL_OK;
}

static bl_status set_string(char **dst, const char *s) {
    char *copy = NULL;
    if (s) {
        copy = strdup(s);
        BL_CHECK_ALLOC(copy);
    }
    free(*dst);
    *dst = copy;
    return BL_OK;
}

static void free_strlist(char **a, size_t n) {
    for (size_t i = 0; i < n; i++) free(a[i]);
    free(a);
}

static void free_sources(bl_source_cfg *a, size_t n) {
    for (size_t i = 0; i < n; i++) {
        free(a[i].path);
        free(a[i].time_pattern);
        free(a[i].start);
        free(a[i].end);
    }
    free(a);
}

/* A list value: a sequence, or one scalar taken as a one-item list; null is empty. */
static void list_items(const ynode *v, const ynode *const **items, size_t *n, const ynode **one) {
    if (ynode_is_null(v)) {
        *items = NULL;
        *n = 0;
    } else if (v->kind == YN_SEQ) {
        *items = (const ynode *const *)v->kid;
        *n = v->n;
    } else {
        *one = v;
        *items = one;
        *n = 1;
    }
}

static bl_status apply_strlist(ld *L, const bl_config_key *k, const char *path, const ynode *v) {
    if (v->kind == YN_MAP) return type_error(L, k, path, v);
    const ynode *const *items, *one;
    size_t n;
    list_items(v, &items, &n, &one);
    char **arr = calloc(n ? n : 1, sizeof *arr);
    BL_CHECK_ALLOC(arr);
    char got[160];
    for (size_t i = 0; i < n; i++) {
        const ynode *it = items[i];
        const char *why = it->kind == YN_SCALAR && !ynode_is_null(it) ? (k->check ? k->check(it->s) : NULL)
                                                                  : "a string";
        if (why || !(arr[i] = strdup(it->s))) {
            free_strlist(arr, n);
            if (!why) return BL_ERROR(BL_ERR_NOMEM, "out of memory");
            return fail_at(L->src, it->line, it->col, "%s[%zu]: expected %s, got %s", path, i, why,
                           describe(it, got, sizeof got));
        }
    }
    for (size_t i = 0; (k->flags & BL_CK_UNIQUE) && i < n; i++)
        for (size_t q = 0; q < i; q++)
            if (!strcmp(arr[q], arr[i])) {
                const ynode *it = items[i];
                free_strlist(arr, n);
                return fail_at(L->src, it->line, it->col, "%s[%zu]: %s is listed twice (items %zu and %zu)",
                               path, i, describe(it, got, sizeof got), q, i);
            }
    char ***dst = field(L->base, k->off);
    size_t *cnt = field(L->base, k->count_off);
    free_strlist(*dst, *cnt);
    *dst = arr;
    *cnt = n;
    return BL_OK;
}

static bl_status apply_source_map(ld *L, size_t idx, const ynode *map, bl_source_cfg *item) {
    char path[320], got[160], exp[256];
    for (size_t i = 0; i + 1 < map->n; i += 2) {
        const ynode *k = map->kid[i], *v = map->kid[i + 1];
        snprintf(path, sizeof path, "sources[%zu].%.200s", idx, k->s);
        BL_TRY(check_dup(L->src, path, map, i / 2));
        int r = k->len <= 200 ? bl_keys_find(L->T, k->s, true) : -1;
        if (r < 0) {
            char hint[64], list[256];
            if (k->len <= 64 && bl_keys_suggest(L->T, L->T->items, k->s, hint, sizeof hint))
                return fail_at(L->src, k->line, k->col, "%s: unknown key (did you mean '%s'?)", path, hint);
            bl_keys_children(L->T, L->T->items, list, sizeof list);
            return fail_at(L->src, k->line, k->col, "%s: unknown key; a source has the keys: %s", path, list);
        }
        const bl_config_key *row = &L->T->rows[r];
        char **dst = field(item, row->off);
        if (row->off == offsetof(bl_source_cfg, path) && *dst)
            return fail_at(L->src, k->line, k->col,
                           "sources[%zu]: give either path or url, not both (they are one key)", idx);
        const char *why = NULL;
        if (ynode_is_null(v) && (row->flags & BL_CK_NULLABLE)) {
            free(*dst);
            *dst = NULL;
            continue;
        }
        if (v->kind != YN_SCALAR || ynode_is_null(v) || ((row->flags & BL_CK_NONEMPTY) && v->len == 0)) {
            bl_config_key_expected(row, exp, sizeof exp);
            why = exp;
        } else if (row->check) {
            why = row->check(v->s);
        }
        if (why)
            return fail_at(L->src, v->line, v->col, "%s: expected %s, got %s", path, why,
                           describe(v, got, sizeof got));
        BL_TRY(set_string(dst, v->s));
    }
    if (!item->path)
        return fail_at(L->src, map->line, map->col,
                       "sources[%zu]: no path; each source needs `path:` (a file, glob or URL)", idx);
    return BL_OK;
}

static bl_status apply_sources(ld *L, const bl_config_key *k, const char *path, const ynode *v) {
    if (v->kind == YN_MAP) return type_error(L, k, path, v);
    const ynode *const *items, *one;
    size_t n;
    list_items(v, &items, &n, &one);
    bl_source_cfg *arr = calloc(n ? n : 1, sizeof *arr);
    BL_CHECK_ALLOC(arr);
    bl_status s = BL_OK;
    char got[160];
    for (size_t i = 0; i < n && s == BL_OK; i++) {
        const ynode *it = items[i];
        if (it->kind == YN_MAP) {
            s = apply_source_map(L, i, it, &arr[i]);
        } else if (it->kind == YN_SCALAR && !ynode_is_null(it) && it->len > 0) {
            s = set_string(&arr[i].path, it->s);
        } else {
            s = fail_at(L->src, it->line, it->col,
                        "sources[%zu]: expected a path or a mapping {path, time_pattern, start, "
                        "end}, got %s", i, describe(it, got, sizeof got));
        }
    }
    if (s != BL_OK) {
        free_sources(arr, n);
        return s;
    }
    bl_source_cfg **dst = field(L->base, k->off);
    size_t *cnt = field(L->base, k->count_off);
    free_sources(*dst, *cnt);
    *dst = arr;
    *cnt = n;
    return BL_OK;
}

/* A plain scalar that reads back the same inside a flow collection: numbers, words, paths. */
static bool flow_plain_ok(const ynode *v) {
    if (!v->plain || v->len == 0) return false;
    for (size_t i = 0; i < v->len; i++) {
        char ch = v->s[i];
        if (!((ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') ||
              strchr("_.+/-", ch)))
            return false;
    }
    char c0 = v->s[0], c1 = v->len > 1 ? v->s[1] : '\0';
    return !(c0 == '-' || c0 == '+') || (c1 >= '0' && c1 <= '9') || c1 == '.';
}

static void put_flow(FILE *f, const ynode *v) {
    if (ynode_is_null(v)) {
        fputs("null", f);
    } else if (v->kind == YN_SCALAR) {
        /* a quoted scalar stays a string; bl_config_put_string quotes when plain would not */
        if (flow_plain_ok(v)) fputs(v->s, f);
        else bl_config_put_string(f, v->s);
    } else {
        bool map = v->kind == YN_MAP;
        fputc(map ? '{' : '[', f);
        for (size_t i = 0; i < v->n; i++) {
            if (i) fputs(map && i % 2 ? ": " : ", ", f);
            put_flow(f, v->kid[i]);
        }
        fputc(map ? '}' : ']', f);
    }
}

/* Any YAML value (free-form card metrics) as one line of flow-style YAML that loads back to
 * the same text; NULL for null. */
static bl_status flow_text(const ynode *v, char **out) {
    *out = NULL;
    if (ynode_is_null(v)) return BL_OK;
    size_t len = 0;
    FILE *f = open_memstream(out, &len);
    BL_CHECK_ALLOC(f);
    put_flow(f, v);
    if (fclose(f) != 0 || !*out) {
        free(*out);
        *out = NULL;
        return BL_ERROR(BL_ERR_NOMEM, "out of memory copying a YAML value");
    }
    return BL_OK;
}

static bl_status apply_leaf(ld *L, int idx, const char *path, const ynode *v) {
    const bl_config_key *k = &L->T->rows[idx];
    void *dst = field(L->base, k->off);
    bool scalar = v->kind == YN_SCALAR && !ynode_is_null(v);
    switch (k->type) {
    case BL_CK_INT: {
        long long x;
        if (!scalar || !parse_int(v->s, &x) || !bl_keys_in_range(k, (double)x)) return type_error(L, k, path, v);
        *(int *)dst = (int)x;
        break;
    }
    case BL_CK_DOUBLE: {
        double x;
        if (!scalar || !bl_keys_parse_double(v->s, &x) || !bl_keys_in_range(k, x)) return type_error(L, k, path, v);
        *(double *)dst = x;
        break;
    }
    case BL_CK_BOOL: {
        bool b;
        if (!scalar || !parse_bool(v->s, &b)) return type_error(L, k, path, v);
        *(bool *)dst = b;
        break;
    }
    case BL_CK_ENUM: {
        size_t i = 0;
        while (scalar && i < k->n_names && strcmp(v->s, k->names[i])) i++;
        if (!scalar || i == k->n_names) return type_error(L, k, path, v);
        *(int *)dst = (int)i;
        break;
    }
    case BL_CK_STRING: {
        if (ynode_is_null(v) && (k->flags & BL_CK_NULLABLE)) {
            BL_TRY(set_string(dst, NULL));
            break;
        }
        if (!scalar || ((k->flags & BL_CK_NONEMPTY) && v->len == 0)) return type_error(L, k, path, v);
        const char *why = k->check ? k->check(v->s) : NULL;
        if (why) {
            char got[160];
            return fail_at(L->src, v->line, v->col, "%s: expected %s, got %s", path, why,
                           describe(v, got, sizeof got));
        }
        BL_TRY(set_string(dst, v->s));
        break;
    }
    case BL_CK_STRLIST: BL_TRY(apply_strlist(L, k, path, v)); break;
    case BL_CK_SOURCES: BL_TRY(apply_sources(L, k, path, v)); break;
    case BL_CK_YAML: {
        char *text = NULL;
        BL_TRY(flow_text(v, &text));
        free(*(char **)dst);
        *(char **)dst = text;
        break;
    }
    }
    mark(L, idx, v);
    return BL_OK;
}

static bl_status apply_at(ld *L, const char *path, const ynode *keynode, const ynode *v) {
    int idx = bl_keys_find(L->T, path, false);
    if (idx >= 0) return apply_leaf(L, idx, path, v);
    if (bl_keys_is_section(L->T, path)) {
        if (ynode_is_null(v)) return BL_OK; /* `frontend:` with nothing under it */
        if (v->kind != YN_MAP) {
            char list[512], got[160];
            bl_keys_children(L->T, path, list, sizeof list);
            return fail_at(L->src, v->line, v->col, "%s: expected a mapping with the keys %s, got %s",
                           path, list, describe(v, got, sizeof got));
        }
        return apply_map(L, path, v);
    }
    return unknown_key(L, path, keynode ? keynode : v);
}

/* ---- marks --------------------------------------------------------------------------- */

bl_status bl_keys_marks_new(const bl_key_table *t, struct bl_config_marks **out) {
    *out = calloc(1, sizeof **out + t->n * sizeof(bl_mark));
    BL_CHECK_ALLOC(*out);
    (*out)->n_keys = t->n;
    for (size_t i = 0; i < t->n; i++) (*out)->m[i].set = -1;
    return BL_OK;
}

void bl_keys_marks_free(struct bl_config_marks *m) {
    if (m) free_strlist(m->set_args, m->n_set);
    free(m);
}

bool bl_keys_marked(const struct bl_config_marks *m, int idx) {
    if (!m || idx < 0 || (size_t)idx >= m->n_keys) return false;
    return m->m[idx].line > 0 || (m->m[idx].set >= 0 && (size_t)m->m[idx].set < m->n_set);
}

const char *bl_keys_where(const struct bl_config_marks *m, const char *origin, int idx, char *buf,
                          size_t cap) {
    buf[0] = '\0';
    if (!m || idx < 0 || (size_t)idx >= m->n_keys) return buf;
    const bl_mark *k = &m->m[idx];
    if (k->set >= 0 && (size_t)k->set < m->n_set) snprintf(buf, cap, "--set %.*s%s: ", BL_SET_ARG(m->set_args[k->set]));
    else if (k->line > 0) snprintf(buf, cap, "%s:%d:%d: ", origin ? origin : "<config>", k->line, k->col);
    return buf;
}

/* ---- documents: defaults, loading, freeing ------------------------------------------ */

bl_status bl_keys_defaults(const bl_key_table *t, void *base) {
    for (size_t i = 0; i < t->n; i++) {
        const bl_config_key *k = &t->rows[i];
        if (k->flags & (BL_CK_ITEM | BL_CK_ALIAS)) continue;
        void *dst = field(base, k->off);
        bool ok = true;
        switch (k->type) {
        case BL_CK_INT:
        case BL_CK_ENUM: *(int *)dst = (int)k->def_num; break;
        case BL_CK_DOUBLE: *(double *)dst = k->def_num; break;
        case BL_CK_BOOL: *(bool *)dst = k->def_num != 0; break;
        case BL_CK_STRING:
            ok = !k->def_str || (k->flags & BL_CK_DEF_KEY) || (*(char **)dst = strdup(k->def_str));
            break;
        case BL_CK_STRLIST: {
            char **arr = calloc(k->n_names ? k->n_names : 1, sizeof *arr);
            ok = arr != NULL;
            for (size_t j = 0; ok && j < k->n_names; j++) ok = (arr[j] = strdup(k->names[j])) != NULL;
            *(char ***)dst = arr;
            *(size_t *)field(base, k->count_off) = arr ? k->n_names : 0;
            break;
        }
        case BL_CK_SOURCES:
        case BL_CK_YAML: break;
        }
        if (!ok) return BL_ERROR(BL_ERR_NOMEM, "out of memory setting the %s defaults", t->what);
    }
    return BL_OK;
}

void bl_keys_free_values(const bl_key_table *t, void *base) {
    for (size_t i = 0; i < t->n; i++) {
        const bl_config_key *k = &t->rows[i];
        if (k->flags & (BL_CK_ITEM | BL_CK_ALIAS)) continue;
        void *p = field(base, k->off);
        if (k->type == BL_CK_STRING || k->type == BL_CK_YAML) free(*(char **)p);
        else if (k->type == BL_CK_STRLIST) free_strlist(*(char ***)p, *(size_t *)field(base, k->count_off));
        else if (k->type == BL_CK_SOURCES)
            free_sources(*(bl_source_cfg **)p, *(size_t *)field(base, k->count_off));
    }
}

bl_status bl_keys_load_text(const bl_key_table *t, void *base, struct bl_config_marks *marks,
                            const char *text, size_t len, const char *name) {
    ysrc src = {.T = t, .name = name, .text = text, .len = len};
    if (len > BL_CFG_MAX_BYTES)
        return fail_at(&src, 0, 0, "the %s is %zu bytes; the limit is %zu (is this a %s file?)", t->what,
                       len, BL_CFG_MAX_BYTES, t->what);
    ynode *root;
    BL_TRY(ynode_parse(&src, &root));
    bl_status s = BL_OK;
    if (!ynode_is_null(root)) {
        if (root->kind != YN_MAP) {
            char got[160];
            s = fail_at(&src, root->line, root->col,
                        "the top level must be a mapping of keys (e.g. `%s: ...`), got %s", t->example,
                        describe(root, got, sizeof got));
        } else {
            ld L = {.T = t, .base = base, .marks = marks, .src = &src, .set_idx = -1};
            s = apply_map(&L, "", root);
        }
    }
    ynode_free(root);
    return s;
}

bl_status bl_keys_load_file(const bl_key_table *t, void *base, struct bl_config_marks *marks,
                            const char *path) {
    char *buf = NULL;
    size_t len = 0;
    bl_status s = bl_infile_read_all(path, t->what, BL_CFG_MAX_BYTES, &buf, &len);
    /* whatever went wrong with the file itself, nothing ran: a config error (exit 1) */
    if (s != BL_OK && s != BL_ERR_NOMEM) {
        char *msg = strdup(bl_error_message());
        s = BL_ERROR(msg ? BL_ERR_CONFIG : BL_ERR_NOMEM, "%s", msg ? msg : "out of memory");
        free(msg);
        return s;
    }
    BL_TRY(s);
    s = bl_keys_load_text(t, base, marks, buf, len, path);
    free(buf);
    return s;
}

/* ---- the run config ------------------------------------------------------------------ */

bl_status bl_config_init_defaults(bl_config *c) {
    BL_RETURN_IF(!c, BL_ERR_INVALID_ARG, "bl_config_init_defaults: no config");
    memset(c, 0, sizeof *c);
    const bl_key_table *t = bl_config_table();
    BL_TRY(bl_keys_marks_new(t, &c->marks));
    bl_status s = bl_keys_defaults(t, c);
    if (s != BL_OK) bl_config_free(c);
    return s;
}

void bl_config_free(bl_config *c) {
    if (!c) return;
    bl_keys_free_values(bl_config_table(), c);
    bl_keys_marks_free(c->marks);
    free(c->origin);
    memset(c, 0, sizeof *c);
}

bl_status bl_config_load_string(const char *text, size_t len, const char *name, bl_config *c) {
    BL_RETURN_IF(!text && len, BL_ERR_INVALID_ARG, "bl_config_load_string: no text");
    BL_TRY(bl_config_init_defaults(c));
    if (!name) name = "<config>";
    c->origin = strdup(name);
    BL_CHECK_ALLOC(c->origin);
    return bl_keys_load_text(bl_config_table(), c, c->marks, text, len, name);
}

bl_status bl_config_load_file(const char *path, bl_config *c) {
    BL_RETURN_IF(!path, BL_ERR_INVALID_ARG, "bl_config_load_file: no path");
    BL_TRY(bl_config_init_defaults(c));
    c->origin = strdup(path);
    BL_CHECK_ALLOC(c->origin);
    return bl_keys_load_file(bl_config_table(), c, c->marks, path);
}

bl_status bl_config_set(bl_config *c, const char *assignment) {
    BL_RETURN_IF(!c || !assignment, BL_ERR_INVALID_ARG, "bl_config_set: no config or assignment");
    BL_RETURN_IF(!c->marks, BL_ERR_INVALID_ARG,
                 "bl_config_set: the config is not initialised (bl_config_init_defaults first)");
    const char *eq = strchr(assignment, '=');
    ysrc src = {.T = bl_config_table(), .name = assignment, .is_set = true};
    if (!eq) return fail_at(&src, 0, 0, "expected KEY=VALUE, e.g. --set frontend.n_mels=128");
    const char *k0 = assignment, *k1 = eq;
    while (k0 < k1 && (*k0 == ' ' || *k0 == '\t')) k0++;
    while (k1 > k0 && (k1[-1] == ' ' || k1[-1] == '\t')) k1--;
    if (k0 == k1) return fail_at(&src, 0, 0, "no key before '=', e.g. --set frontend.n_mels=128");
    char key[320];
    snprintf(key, sizeof key, "%.*s%s", k1 - k0 > 200 ? 200 : (int)(k1 - k0), k0,
             k1 - k0 > 200 ? "..." : "");

    struct bl_config_marks *m = c->marks;
    char **args = realloc(m->set_args, (m->n_set + 1) * sizeof *args);
    BL_CHECK_ALLOC(args);
    m->set_args = args;
    BL_CHECK_ALLOC(args[m->n_set] = strdup(assignment));
    m->n_set++;

    src.text = eq + 1;
    src.len = strlen(eq + 1);
    ynode *root;
    BL_TRY(ynode_parse(&src, &root));
    ynode null_node = {.kind = YN_SCALAR, .plain = true, .s = (char *)"", .len = 0};
    ld L = {.T = src.T, .base = c, .marks = m, .src = &src, .set_idx = (int)(m->n_set - 1)};
    bl_status s = apply_at(&L, key, NULL, root ? root : &null_node);
    ynode_free(root);
    return s;
}

bool bl_config_key_is_set(const bl_config *c, const char *path) {
    if (!c || !c->marks || !path) return false;
    const bl_key_table *t = bl_config_table();
    int idx = bl_keys_find(t, path, false);
    if (idx >= 0) return bl_keys_marked(c->marks, idx);
    if (!bl_keys_is_section(t, path) || !path[0]) return false;
    size_t n = strlen(path); /* a section: is any key under it set? */
    for (size_t i = 0; i < t->n; i++)
        if (!strncmp(t->rows[i].path, path, n) && t->rows[i].path[n] == '.' &&
            bl_keys_marked(c->marks, (int)i))
            return true;
    return false;
}
