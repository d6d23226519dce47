/* config_keys.h — private to core/config*.c and models/card.c: key tables and the
 * table-driven YAML documents built on them (the run config, model cards).
 *
 * A key table (bl_key_table) lists every key of one kind of document once, with its dotted
 * path, type, default, range and one-line meaning, and where its value lives in the
 * document's struct (an offset from a base pointer). Everything else derives from the
 * table: loading YAML (config.c: one loader for every table, so a card and a config give
 * the same messages), lookups, "did you mean" hints, validation, the resolved dump, the
 * comparison and the key reference (Markdown and text).
 *
 * The config's table is constant (bl_config_table()). Rows whose path starts with the
 * table's `items` prefix ("sources[].") are the fields of one list item (offsets into
 * bl_source_cfg, flag BL_CK_ITEM); they are looked up only inside an item. A model card's
 * table is built at run time from its own rows plus the config's `frontend.*` rows with
 * their offsets moved (models/card.c), so a frontend key means one thing everywhere.
 *
 * Threading: tables are read-only once built; every function here is reentrant.
 */
#ifndef BL_CONFIG_KEYS_H
#define BL_CONFIG_KEYS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "error.h"    /* bl_status */
#include "frontend.h" /* bl_frontend_params: the shared cross-field front-end checks */

typedef enum {
    BL_CK_INT,     /* int, range [lo, hi] */
    BL_CK_DOUBLE,  /* double, range lo..hi, ends open or closed per flags */
    BL_CK_BOOL,    /* bool */
    BL_CK_STRING,  /* char * (NULL only with BL_CK_NULLABLE) */
    BL_CK_ENUM,    /* an enum stored as int; names[value] is its spelling */
    BL_CK_STRLIST, /* char ** + size_t count at count_off */
    BL_CK_SOURCES, /* the sources list (bl_source_cfg *, count at count_off) */
    BL_CK_YAML     /* any YAML value, kept as flow-style YAML text (char *, NULL for null) */
} bl_ck_type;

enum {
    BL_CK_LO_OPEN = 1u << 0,  /* lo is excluded */
    BL_CK_HI_OPEN = 1u << 1,  /* hi is excluded */
    BL_CK_NULLABLE = 1u << 2, /* null (~, empty) is allowed and stored as NULL */
    BL_CK_NONEMPTY = 1u << 3, /* "" is rejected */
    BL_CK_ITEM = 1u << 4,     /* a field of a list item: offset into the item struct */
    BL_CK_ALIAS = 1u << 5,    /* another spelling of the row before it (same offset) */
    BL_CK_REQUIRED = 1u << 6, /* must be given (validation says so when it is not) */
    BL_CK_UNIQUE = 1u << 7,   /* lists: an item given twice is a load error at that item */
    BL_CK_DEF_KEY = 1u << 8,  /* the default is the value of the key named by def_str */
};

typedef struct {
    const char *path; /* dotted path, e.g. "frontend.mel.n_mels" */
    bl_ck_type type;
    unsigned flags;
    size_t off;       /* offset of the value from the document's base (or the list item) */
    size_t count_off; /* lists: offset of the size_t count */
    double lo, hi;    /* int and double ranges */
    double def_num;   /* default of int, double, bool (0/1) and enum (value) keys */
    const char *def_str;      /* default of string keys (NULL: null / required) */
    const char *const *names; /* enum: spellings indexed by value; list: default items */
    size_t n_names;
    /* Extra rule for a string or each list item: NULL when `s` is fine, otherwise the
     * text of what is expected ("max, mean, pNN (NN 1..99) or topK_mean (K >= 1)"). */
    const char *(*check)(const char *s);
    const char *doc; /* one line, no '|' (it lands in a Markdown table) */
} bl_config_key;

/* One kind of document. The strings shape its messages. */
typedef struct {
    const bl_config_key *rows;
    size_t n;
    const char *items;     /* prefix of list-item rows without the dot ("sources[]"), or NULL */
    const char *what;      /* "config", "model card": "a config must be UTF-8 text" */
    const char *example;   /* first key in the top-level hint: "model" → (e.g. `model: ...`) */
    const char *keys_hint; /* where every key is listed: "`baleen config keys`" */
    const char *too_many;  /* hint after "more than N values", starting with "; " or "" */
} bl_key_table;

/* The run config's table (constant). */
const bl_key_table *bl_config_table(void);

/* Rows of the config table, as before: bl_config_table()->rows. */
const bl_config_key *bl_config_keys(size_t *n);

/* ---- lookups (config_keys.c) --------------------------------------------------------- */

/* Index of the row with exactly this path, or -1. `items` selects the list-item rows (path
 * given without the items prefix) instead of the top-level keys. */
int bl_keys_find(const bl_key_table *t, const char *path, bool items);
/* The row an alias row stands for (itself when it is not an alias). */
int bl_keys_canonical(const bl_key_table *t, int idx);
/* True when `path` names a section (a mapping holding keys), e.g. "frontend.mel". */
bool bl_keys_is_section(const bl_key_table *t, const char *path);
/* "Did you mean": the closest key or section to `key` among the children of `prefix`
 * ("" for the root, t->items for a list item), else among all paths. Writes the full
 * dotted path (the field name for items) to out; false when nothing is close. */
/* Edit distance (Levenshtein) of a[0..na) and b[0..nb), for "did you mean" hints; strings
 * longer than 64 characters are never close: (size_t)-1. */
size_t bl_edit_distance(const char *a, size_t na, const char *b, size_t nb);
bool bl_keys_suggest(const bl_key_table *t, const char *prefix, const char *key, char *out, size_t cap);
/* The children of `prefix`, comma separated ("sample_rate, n_fft, ..."). */
void bl_keys_children(const bl_key_table *t, const char *prefix, char *out, size_t cap);

/* The same on the config's table (kept for the config's own code). */
int bl_config_key_find(const char *path, bool items);
bool bl_config_is_section(const char *path);

/* ---- text (config_keys.c) ------------------------------------------------------------ */

/* What a value of this key must be, for messages: "an integer in [16, 65536]". */
void bl_config_key_expected(const bl_config_key *k, char *out, size_t cap);
/* Shortest text that reads back as exactly `v`, always with a '.' or exponent ("60.0"). */
void bl_config_format_double(double v, char *out, size_t cap);
/* The same without the forced fraction, for messages and ranges ("8000", "0.35"). */
void bl_config_format_number(double v, char *out, size_t cap);
/* Write s as a YAML scalar: plain when that is unambiguous, else double-quoted with escapes,
 * so that it loads back byte for byte. NULL is written as null. */
void bl_config_put_string(FILE *f, const char *s);
/* Check of a pooling aggregate name (max, mean, pNN, topK_mean); see `check` above. */
const char *bl_config_check_aggregate(const char *s);
/* Check of a source start/end: seconds >= 0 or ISO-8601 UTC "YYYY-MM-DDTHH:MM:SS[.f]Z". */
const char *bl_config_check_time(const char *s);

/* ---- whole documents: reference, dump, comparison (config_keys.c) -------------------- */

/* The key reference as a Markdown table (key | type | default | meaning). */
bl_status bl_keys_write_markdown(const bl_key_table *t, FILE *f);
/* The key reference as plain text, one key a line, its type/default and meaning below. */
bl_status bl_keys_write_text(const bl_key_table *t, FILE *f);
/* Every key of the document at `base` as YAML, after the comment line `header`. */
bl_status bl_keys_dump(const bl_key_table *t, const void *base, const char *header, FILE *f);
/* Every key as one "path=value" line (sources as sources.count and sources[i].field lines):
 * the form the run fingerprint compares line by line (bl_fingerprint_diff). */
bl_status bl_keys_dump_flat(const bl_key_table *t, const void *base, FILE *f);
/* True when every key of the documents at a and b holds the same value. */
bool bl_keys_equal(const bl_key_table *t, const void *a, const void *b);

/* ---- loading and checking (config.c) ------------------------------------------------- */

/* A YAML number as a finite double (no hex, no NaN/Inf); false when it is not one. */
bool bl_keys_parse_double(const char *s, double *out);
/* True when v is finite and inside the row's range (ends open or closed per its flags). */
bool bl_keys_in_range(const bl_config_key *k, double v);

struct bl_config_marks; /* where each row was last set (file:line:column or --set); config.c */

/* New marks for a table (every row unset). */
bl_status bl_keys_marks_new(const bl_key_table *t, struct bl_config_marks **out);
void bl_keys_marks_free(struct bl_config_marks *m);
/* True when row idx was set by the text loaded or a --set argument. */
bool bl_keys_marked(const struct bl_config_marks *m, int idx);
/* "origin:line:col: " or "--set ARG: " for where row idx was set; "" when it was not. */
const char *bl_keys_where(const struct bl_config_marks *m, const char *origin, int idx, char *buf,
                          size_t cap);

/* Set every (non-item) row of the document at `base` to its default. On failure the values
 * set so far stay owned by base: release them with bl_keys_free_values. */
bl_status bl_keys_defaults(const bl_key_table *t, void *base);
/* Free the strings and arrays the rows own (not base itself). */
void bl_keys_free_values(const bl_key_table *t, void *base);
/* Apply YAML text, or the file at path, on top of the document at base (initialised), noting
 * each key's position in marks. `name` names the text in messages. Errors: BL_ERR_CONFIG
 * with "name:line:column: key: ..." (an unreadable file too). */
bl_status bl_keys_load_text(const bl_key_table *t, void *base, struct bl_config_marks *marks,
                            const char *text, size_t len, const char *name);
bl_status bl_keys_load_file(const bl_key_table *t, void *base, struct bl_config_marks *marks,
                            const char *path);
/* ---- checking (config_keys.c) -------------------------------------------------------- */

/* Per-key checks: required keys given, ranges, list items (unique, non-empty lists). */
bl_status bl_keys_validate(const bl_key_table *t, const void *base,
                           const struct bl_config_marks *marks, const char *origin);

/* Where a front-end key was set, for the cross-field checks below: writes "file:l:c: " or
 * "" into buf and returns buf. `path` is a config path such as "frontend.n_fft". */
typedef const char *(*bl_keys_loc_fn)(const void *ctx, const char *path, char *buf, size_t cap);
/* The front end's cross-field rules (n_fft even, win_length <= n_fft, fmin < fmax <=
 * sample_rate/2), with messages naming the key and where it was set. BL_ERR_CONFIG. */
bl_status bl_keys_check_frontend(const bl_frontend_params *fe, bl_keys_loc_fn loc, const void *ctx);

#endif /* BL_CONFIG_KEYS_H */
