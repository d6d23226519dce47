/* config_keys.h — private to core/config*.c: the one table of configuration keys and the
 * helpers that read it (lookup, sections, "did you mean", value and type formatting).
 *
 * Every key of bl_config appears once in the table (config_keys.c) with its dotted path,
 * type, default, range and one-line meaning. Rows whose path starts with "sources[]." are
 * the fields of one `sources` item (offsets into bl_source_cfg, flag BL_CK_ITEM); they are
 * looked up only inside a sources item, never as top-level keys.
 *
 * Threading: the table is constant; every function here is reentrant.
 */
#ifndef BL_CONFIG_KEYS_H
#define BL_CONFIG_KEYS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

typedef enum {
    BL_CK_INT,     /* int, range [lo, hi] */
    BL_CK_DOUBLE,  /* double, range lo..hi, ends open or closed per flags */
    BL_CK_BOOL,    /* bool */
    BL_CK_STRING,  /* char * (NULL only with BL_CK_NULLABLE) */
    BL_CK_ENUM,    /* an enum stored as int; names[value] is its spelling */
    BL_CK_STRLIST, /* char ** + size_t count at count_off */
    BL_CK_SOURCES  /* the sources list (bl_source_cfg *, count at count_off) */
} bl_ck_type;

enum {
    BL_CK_LO_OPEN = 1u << 0,  /* lo is excluded */
    BL_CK_HI_OPEN = 1u << 1,  /* hi is excluded */
    BL_CK_NULLABLE = 1u << 2, /* null (~, empty) is allowed and stored as NULL */
    BL_CK_NONEMPTY = 1u << 3, /* "" is rejected */
    BL_CK_ITEM = 1u << 4,     /* a field of a sources item: offset into bl_source_cfg */
    BL_CK_ALIAS = 1u << 5,    /* another spelling of the row before it (same offset) */
};

typedef struct {
    const char *path; /* dotted path, e.g. "frontend.mel.n_mels" */
    bl_ck_type type;
    unsigned flags;
    size_t off;       /* offset of the value in bl_config (or bl_source_cfg for items) */
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

/* The table and its length. */
const bl_config_key *bl_config_keys(size_t *n);

/* Index of the row with exactly this path, or -1. `items` selects the sources[] field rows
 * (path given without the "sources[]." prefix) instead of the top-level keys. */
int bl_config_key_find(const char *path, bool items);

/* True when `path` names a section (a mapping holding keys), e.g. "frontend.mel". */
bool bl_config_is_section(const char *path);

/* "Did you mean": the closest key or section to `key` among the children of `prefix`
 * ("" for the root, "sources[]" for a sources item), else among all paths. Writes the
 * full dotted path (the field name for sources items) to out; false when nothing is close. */
bool bl_config_suggest(const char *prefix, const char *key, char *out, size_t cap);

/* The children of `prefix`, comma separated ("sample_rate, n_fft, ..."). */
void bl_config_children(const char *prefix, char *out, size_t cap);

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

#endif /* BL_CONFIG_KEYS_H */
