/* json.h — a small strict JSON reader (RFC 8259) and the text buffer used to write JSON.
 *
 * Defines: bl_json (a parsed document tree), bl_json_parse(), lookup helpers, and bl_strbuf
 * (a growable text buffer with JSON string escaping and round-trip number formatting).
 * baleen reads back only JSON it wrote itself (manifest.json, run.json), but the files sit in
 * a user's folder and may be edited or damaged, so the reader is strict and bounded: it
 * rejects trailing commas, comments, control characters in strings, lone surrogates,
 * duplicate keys, leading zeros, and nesting deeper than BL_JSON_MAX_DEPTH; errors name the
 * document, line and column. It runs in time linear in the text (n log n in the members of
 * one object for the duplicate-name check), which bl_json_parse_stats() lets tests check by
 * counting work rather than timing. Fuzzed by tests/fuzz/fuzz_manifest_json.c.
 *
 * Ownership: a tree owns all its strings; free the root with bl_json_free().
 * Threading: no shared state; trees are read-only after parsing.
 */
#ifndef BL_JSON_H
#define BL_JSON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../core/error.h" /* bl_status */

#define BL_JSON_MAX_DEPTH 64

typedef enum { BL_JSON_NULL, BL_JSON_BOOL, BL_JSON_NUMBER, BL_JSON_STRING, BL_JSON_ARRAY, BL_JSON_OBJECT } bl_json_type;

typedef struct bl_json bl_json;
struct bl_json {
    bl_json_type type;
    bool boolean;
    double number;
    bool is_integer;   /* the number was written without fraction or exponent */
    int64_t integer;   /* its value when is_integer and it fits */
    char *string;      /* BL_JSON_STRING, NUL-terminated UTF-8 (may hold \u0000 as NUL) */
    size_t string_len;
    char *key;         /* member name when this node is an object member */
    bl_json **items;   /* array elements or object members, in document order */
    size_t n_items;
    int line, column;  /* where the value starts, for messages */
};

/* Parse `len` bytes. `name` is used in messages ("manifest.json:3:14: ..."). BL_ERR_FORMAT on
 * any syntax error; BL_ERR_NOMEM. Of a document with several faults, the message names one
 * (the first the parser meets: a duplicate name in an object of more than 16 members is
 * found when the object closes). */
bl_status bl_json_parse(const char *text, size_t len, const char *name, bl_json **out);

/* The work one parse did, counted as it goes (no clock). For tests that check the parse grows
 * linearly with the input; the figures mean nothing across versions of the parser. */
typedef struct {
    uint64_t bytes_visited; /* input bytes looked at, once per pass over them */
    uint64_t comparisons;   /* member-name comparisons of the duplicate check */
    uint64_t nodes;         /* values made */
} bl_json_stats;

/* bl_json_parse() that also fills *stats (when not NULL), on success and on failure. */
bl_status bl_json_parse_stats(const char *text, size_t len, const char *name, bl_json **out,
                              bl_json_stats *stats);
void bl_json_free(bl_json *j);
/* Member of an object by name, or NULL (also when `obj` is not an object). */
const bl_json *bl_json_get(const bl_json *obj, const char *key);
/* Depth-first search for the first object member called `key` anywhere below `j`. */
const bl_json *bl_json_find(const bl_json *j, const char *key);
const char *bl_json_type_name(bl_json_type t);

/* Growable text buffer. Appends never fail visibly: on allocation failure `oom` is set and
 * later appends do nothing, so a writer checks once at the end. */
typedef struct {
    char *data; /* NUL-terminated when non-NULL */
    size_t len, cap;
    bool oom;
} bl_strbuf;

void bl_strbuf_append(bl_strbuf *b, const void *data, size_t len);
void bl_strbuf_puts(bl_strbuf *b, const char *s);
void bl_strbuf_printf(bl_strbuf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* A JSON string literal, quotes included (control characters as \u00XX). */
void bl_strbuf_json_string(bl_strbuf *b, const char *s);
/* The shortest decimal that reads back to exactly `v` ("null" when not finite). */
void bl_strbuf_json_number(bl_strbuf *b, double v);
void bl_strbuf_free(bl_strbuf *b);

#endif
