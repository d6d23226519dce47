/* json.c — strict JSON reader and JSON text buffer (see json.h).
 *
 * A recursive-descent parser over a bounded buffer (never reads past `len`; the input need
 * not be NUL-terminated), depth-limited so hostile input cannot exhaust the stack.
 *
 * Linear time. Every byte is looked at a bounded number of times: the line and the start of
 * the current line are carried along as whitespace is skipped (a newline can only appear in
 * whitespace in valid JSON), so a value's line:column costs nothing; only an error message
 * rescans the text, once. Duplicate member names are found by comparing with the earlier
 * members while an object has at most BL_JSON_SMALL_OBJECT of them (every object baleen
 * writes is that small; its big collections are arrays), and in larger objects by sorting the
 * names once the object closes (a merge sort: n log n comparisons however the names are
 * chosen, where a hash table could be flooded with colliding names). The parse counts its
 * own work (bl_json_stats) so that tests can check all this without timing anything.
 *
 * Threading: no shared state.
 */
#include "json.h"

#include <limits.h> /* LLONG_MAX, INT_MAX */
#include <math.h>   /* isfinite */
#include <stdarg.h> /* bl_strbuf_printf */
#include <stdio.h>  /* vsnprintf, snprintf */
#include <stdlib.h> /* malloc, strtod */
#include <string.h> /* memcpy, strcmp */

/* Objects with more members than this check for duplicates by sorting (see above). */
#define BL_JSON_SMALL_OBJECT 16

typedef struct {
    const char *p, *end, *start;
    const char *name;
    int depth;
    int line;               /* line of ps->p (1-based), kept up to date by skip_ws */
    const char *line_start; /* first byte of that line */
    bl_json_stats st;
} parser;

/* Line and column of `at`, counted from the start: for error messages only (once a parse). */
static void where(parser *ps, const char *at, int *line, int *col) {
    int l = 1, c = 1;
    const char *q = ps->start;
    for (; q < at && q < ps->end; q++) {
        if (*q == '\n') { l += l < INT_MAX; c = 1; } else c += c < INT_MAX;
    }
    ps->st.bytes_visited += (uint64_t)(q - ps->start);
    *line = l;
    *col = c;
}

static bl_status fail(parser *ps, const char *at, const char *what) {
    int l, c;
    where(ps, at, &l, &c);
    return BL_ERROR(BL_ERR_FORMAT, "%s:%d:%d: invalid JSON: %s", ps->name, l, c, what);
}

static void skip_ws(parser *ps) {
    const char *p = ps->p;
    while (p < ps->end && (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r')) {
        if (*p == '\n') {
            if (ps->line < INT_MAX) ps->line++;
            ps->line_start = p + 1;
        }
        p++;
    }
    ps->st.bytes_visited += (uint64_t)(p - ps->p);
    ps->p = p;
}

static bl_json *node_new(parser *ps, bl_json_type t) {
    bl_json *j = calloc(1, sizeof *j);
    if (!j) return NULL;
    j->type = t;
    /* ps->p is never past a newline that skip_ws did not count: values start after
     * whitespace, and strings, numbers and literals hold no raw newline */
    j->line = ps->line;
    ptrdiff_t col = ps->p - ps->line_start;
    j->column = col < INT_MAX ? (int)col + 1 : INT_MAX;
    ps->st.nodes++;
    return j;
}

void bl_json_free(bl_json *j) {
    if (!j) return;
    for (size_t i = 0; i < j->n_items; i++) bl_json_free(j->items[i]);
    free(j->items);
    free(j->string);
    free(j->key);
    free(j);
}

static int hexval(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

static bool read_hex4(parser *ps, unsigned *v) {
    if (ps->end - ps->p < 4) return false;
    unsigned x = 0;
    for (int i = 0; i < 4; i++) {
        int h = hexval(ps->p[i]);
        if (h < 0) return false;
        x = x * 16 + (unsigned)h;
    }
    ps->p += 4;
    *v = x;
    return true;
}

/* Parses a string literal at ps->p (a '"'); returns a malloc'ed UTF-8 copy. */
static bl_status parse_string(parser *ps, char **out, size_t *out_len) {
    const char *open = ps->p++;
    /* the decoded string is never longer than the literal */
    const char *q = ps->p;
    while (q < ps->end && *q != '"') q += (*q == '\\' && q + 1 < ps->end) ? 2 : 1;
    ps->st.bytes_visited += (uint64_t)(q - open) + 1; /* this pass, then the decoding pass */
    if (q >= ps->end) return fail(ps, open, "unterminated string");
    ps->st.bytes_visited += (uint64_t)(q - open) + 1;
    char *s = malloc((size_t)(q - ps->p) + 1);
    BL_CHECK_ALLOC(s);
    size_t n = 0;
    while (*ps->p != '"') {
        unsigned char c = (unsigned char)*ps->p;
        if (c < 0x20) {
            free(s);
            return fail(ps, ps->p, "control character in string (escape it as \\u00XX)");
        }
        if (c != '\\') {
            s[n++] = (char)c;
            ps->p++;
            continue;
        }
        const char *esc = ps->p++;
        char e = *ps->p++;
        unsigned cp;
        switch (e) {
        case '"': s[n++] = '"'; break;
        case '\\': s[n++] = '\\'; break;
        case '/': s[n++] = '/'; break;
        case 'b': s[n++] = '\b'; break;
        case 'f': s[n++] = '\f'; break;
        case 'n': s[n++] = '\n'; break;
        case 'r': s[n++] = '\r'; break;
        case 't': s[n++] = '\t'; break;
        case 'u':
            if (!read_hex4(ps, &cp)) { free(s); return fail(ps, esc, "bad \\u escape"); }
            if (cp >= 0xDC00 && cp <= 0xDFFF) { free(s); return fail(ps, esc, "lone low surrogate"); }
            if (cp >= 0xD800 && cp <= 0xDBFF) {
                unsigned lo;
                if (ps->end - ps->p < 6 || ps->p[0] != '\\' || ps->p[1] != 'u') {
                    free(s);
                    return fail(ps, esc, "lone high surrogate");
                }
                ps->p += 2;
                if (!read_hex4(ps, &lo) || lo < 0xDC00 || lo > 0xDFFF) {
                    free(s);
                    return fail(ps, esc, "bad surrogate pair");
                }
                cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
            }
            /* UTF-8 is at most 4 bytes; the escape took at least 6 */
            if (cp < 0x80) s[n++] = (char)cp;
            else if (cp < 0x800) { s[n++] = (char)(0xC0 | cp >> 6); s[n++] = (char)(0x80 | (cp & 63)); }
            else if (cp < 0x10000) {
                s[n++] = (char)(0xE0 | cp >> 12); s[n++] = (char)(0x80 | ((cp >> 6) & 63));
                s[n++] = (char)(0x80 | (cp & 63));
            } else {
                s[n++] = (char)(0xF0 | cp >> 18); s[n++] = (char)(0x80 | ((cp >> 12) & 63));
                s[n++] = (char)(0x80 | ((cp >> 6) & 63)); s[n++] = (char)(0x80 | (cp & 63));
            }
            break;
        default: free(s); return fail(ps, esc, "unknown escape");
        }
    }
    ps->p++; /* closing quote */
    s[n] = '\0';
    *out = s;
    *out_len = n;
    return BL_OK;
}

static bl_status parse_number(parser *ps, bl_json *j) {
    const char *s = ps->p, *q = s;
    bool integer = true;
    if (q < ps->end && *q == '-') q++;
    if (q >= ps->end || *q < '0' || *q > '9') return fail(ps, s, "bad number");
    if (*q == '0') q++;
    else while (q < ps->end && *q >= '0' && *q <= '9') q++;
    if (q < ps->end && *q == '.') {
        integer = false;
        q++;
        if (q >= ps->end || *q < '0' || *q > '9') return fail(ps, s, "bad number: digit expected after '.'");
        while (q < ps->end && *q >= '0' && *q <= '9') q++;
    }
    if (q < ps->end && (*q == 'e' || *q == 'E')) {
        integer = false;
        q++;
        if (q < ps->end && (*q == '+' || *q == '-')) q++;
        if (q >= ps->end || *q < '0' || *q > '9') return fail(ps, s, "bad number: exponent digits expected");
        while (q < ps->end && *q >= '0' && *q <= '9') q++;
    }
    char tmp[64];
    size_t n = (size_t)(q - s);
    ps->st.bytes_visited += 3 * (uint64_t)n; /* scanned here, then by strtod and strtoll */
    if (n >= sizeof tmp) return fail(ps, s, "number too long");
    memcpy(tmp, s, n);
    tmp[n] = '\0';
    j->number = strtod(tmp, NULL);
    j->is_integer = false;
    if (integer) {
        char *e;
        long long v = strtoll(tmp, &e, 10);
        if (*e == '\0' && v != LLONG_MAX && v != LLONG_MIN) {
            j->is_integer = true;
            j->integer = v;
        }
    }
    ps->p = q;
    return BL_OK;
}

static bl_status parse_value(parser *ps, bl_json **out);

static bl_status push_item(bl_json *parent, bl_json *child, size_t *cap) {
    if (parent->n_items == *cap) {
        size_t nc = *cap ? *cap * 2 : 4;
        bl_json **ni = realloc(parent->items, nc * sizeof *ni);
        if (!ni) return BL_ERROR(BL_ERR_NOMEM, "out of memory parsing JSON");
        parent->items = ni;
        *cap = nc;
    }
    parent->items[parent->n_items++] = child;
    return BL_OK;
}

/* Duplicate check of a large object, once it has closed: sort (name, index) pairs and look
 * at neighbours. Equal names sort by index, so the member reported is the first one in the
 * document that repeats an earlier name, as the check of a small object reports it. */
typedef struct {
    const char *key;
    size_t index;
} name_ref;

static int name_cmp(parser *ps, const name_ref *a, const name_ref *b) {
    ps->st.comparisons++;
    int c = strcmp(a->key, b->key);
    return c ? c : (a->index > b->index) - (a->index < b->index);
}

/* Bottom-up merge sort: at most n·ceil(log2 n) comparisons for any input. */
static name_ref *sort_names(parser *ps, name_ref *a, name_ref *tmp, size_t n) {
    for (size_t w = 1; w < n; w *= 2) {
        for (size_t lo = 0; lo < n; lo += 2 * w) {
            size_t mid = n - lo > w ? lo + w : n, hi = n - lo > 2 * w ? lo + 2 * w : n;
            size_t i = lo, k = lo, r = mid;
            while (i < mid && r < hi) tmp[k++] = name_cmp(ps, &a[r], &a[i]) < 0 ? a[r++] : a[i++];
            while (i < mid) tmp[k++] = a[i++];
            while (r < hi) tmp[k++] = a[r++];
        }
        name_ref *t = a;
        a = tmp;
        tmp = t;
    }
    return a;
}

static bl_status check_duplicates(parser *ps, const bl_json *obj, const char *const *key_at) {
    size_t n = obj->n_items;
    name_ref *refs = malloc(2 * n * sizeof *refs);
    BL_CHECK_ALLOC(refs);
    for (size_t i = 0; i < n; i++) refs[i] = (name_ref){obj->items[i]->key, i};
    const name_ref *sorted = sort_names(ps, refs, refs + n, n);
    size_t first = n;
    for (size_t i = 1; i < n; i++) {
        ps->st.comparisons++;
        if (sorted[i].index < first && !strcmp(sorted[i].key, sorted[i - 1].key)) first = sorted[i].index;
    }
    free(refs);
    return first < n ? fail(ps, key_at[first], "duplicate member name") : BL_OK;
}

static bl_status parse_container(parser *ps, bl_json *j, bool object) {
    char close = object ? '}' : ']';
    size_t cap = 0;
    /* where each member name starts, for the message of a duplicate found after the close */
    const char *key_at_small[BL_JSON_SMALL_OBJECT], **key_at = key_at_small;
    size_t key_at_cap = BL_JSON_SMALL_OBJECT;
    bl_status s = BL_OK;
    ps->p++;
    ps->st.bytes_visited++;
    skip_ws(ps);
    if (ps->p < ps->end && *ps->p == close) {
        ps->p++;
        ps->st.bytes_visited++;
        return BL_OK;
    }
    for (;;) {
        skip_ws(ps);
        char *key = NULL;
        if (object) {
            size_t kl;
            if (ps->p >= ps->end || *ps->p != '"') {
                s = fail(ps, ps->p, "member name (a string) expected");
                break;
            }
            const char *kat = ps->p;
            if ((s = parse_string(ps, &key, &kl)) != BL_OK) break;
            ps->st.bytes_visited += kl; /* strlen */
            bool nul = strlen(key) != kl, dup = false;
            for (size_t i = 0; !nul && j->n_items < BL_JSON_SMALL_OBJECT && i < j->n_items && !dup; i++) {
                ps->st.comparisons++;
                dup = !strcmp(j->items[i]->key, key);
            }
            if (nul || dup) {
                s = fail(ps, kat, nul ? "NUL in member name" : "duplicate member name");
                free(key);
                break;
            }
            if (j->n_items == key_at_cap) {
                size_t nc = key_at_cap * 2;
                const char **nk = key_at == key_at_small ? malloc(nc * sizeof *nk) : realloc(key_at, nc * sizeof *nk);
                if (!nk) {
                    free(key);
                    s = BL_ERROR(BL_ERR_NOMEM, "out of memory parsing JSON");
                    break;
                }
                if (key_at == key_at_small) memcpy(nk, key_at_small, sizeof key_at_small);
                key_at = nk;
                key_at_cap = nc;
            }
            key_at[j->n_items] = kat;
            skip_ws(ps);
            if (ps->p >= ps->end || *ps->p != ':') {
                free(key);
                s = fail(ps, ps->p, "':' expected");
                break;
            }
            ps->p++;
            ps->st.bytes_visited++;
        }
        bl_json *child = NULL;
        if ((s = parse_value(ps, &child)) != BL_OK) {
            free(key);
            break;
        }
        child->key = key;
        if ((s = push_item(j, child, &cap)) != BL_OK) {
            bl_json_free(child);
            break;
        }
        skip_ws(ps);
        ps->st.bytes_visited++;
        if (ps->p < ps->end && *ps->p == ',') {
            ps->p++;
            continue;
        }
        if (ps->p < ps->end && *ps->p == close) {
            ps->p++;
            if (object && j->n_items > BL_JSON_SMALL_OBJECT) s = check_duplicates(ps, j, key_at);
            break;
        }
        s = fail(ps, ps->p, object ? "',' or '}' expected" : "',' or ']' expected");
        break;
    }
    if (key_at != key_at_small) free(key_at);
    return s;
}

static bl_status parse_value(parser *ps, bl_json **out) {
    skip_ws(ps);
    if (ps->p >= ps->end) return fail(ps, ps->p, "value expected, got end of input");
    char c = *ps->p;
    bl_json *j = NULL;
    bl_status s = BL_OK;
    if (c == '{' || c == '[') {
        if (ps->depth >= BL_JSON_MAX_DEPTH) return fail(ps, ps->p, "nested too deeply");
        j = node_new(ps, c == '{' ? BL_JSON_OBJECT : BL_JSON_ARRAY);
        BL_CHECK_ALLOC(j);
        ps->depth++;
        s = parse_container(ps, j, c == '{');
        ps->depth--;
    } else if (c == '"') {
        j = node_new(ps, BL_JSON_STRING);
        BL_CHECK_ALLOC(j);
        s = parse_string(ps, &j->string, &j->string_len);
    } else if (c == '-' || (c >= '0' && c <= '9')) {
        j = node_new(ps, BL_JSON_NUMBER);
        BL_CHECK_ALLOC(j);
        s = parse_number(ps, j);
    } else {
        static const struct { const char *word; bl_json_type t; bool b; } lits[] = {
            {"true", BL_JSON_BOOL, true}, {"false", BL_JSON_BOOL, false}, {"null", BL_JSON_NULL, false}};
        for (size_t i = 0; i < 3; i++) {
            size_t n = strlen(lits[i].word);
            if ((size_t)(ps->end - ps->p) >= n && !memcmp(ps->p, lits[i].word, n)) {
                j = node_new(ps, lits[i].t);
                BL_CHECK_ALLOC(j);
                j->boolean = lits[i].b;
                ps->p += n;
                ps->st.bytes_visited += n;
                break;
            }
        }
        if (!j) return fail(ps, ps->p, "value expected (object, array, string, number, true, false or null)");
    }
    if (s != BL_OK) {
        bl_json_free(j);
        return s;
    }
    *out = j;
    return BL_OK;
}

bl_status bl_json_parse_stats(const char *text, size_t len, const char *name, bl_json **out,
                              bl_json_stats *stats) {
    parser ps = {.p = text, .end = text + len, .start = text, .name = name ? name : "JSON", .line = 1,
                 .line_start = text};
    *out = NULL;
    bl_json *root = NULL;
    bl_status s = parse_value(&ps, &root);
    if (s == BL_OK) {
        skip_ws(&ps);
        if (ps.p != ps.end) {
            bl_json_free(root);
            root = NULL;
            s = fail(&ps, ps.p, "unexpected data after the value");
        }
    }
    if (stats) *stats = ps.st;
    *out = root;
    return s;
}

bl_status bl_json_parse(const char *text, size_t len, const char *name, bl_json **out) {
    return bl_json_parse_stats(text, len, name, out, NULL);
}

const bl_json *bl_json_get(const bl_json *obj, const char *key) {
    if (!obj || obj->type != BL_JSON_OBJECT) return NULL;
    for (size_t i = 0; i < obj->n_items; i++)
        if (obj->items[i]->key && !strcmp(obj->items[i]->key, key)) return obj->items[i];
    return NULL;
}

const bl_json *bl_json_find(const bl_json *j, const char *key) {
    if (!j) return NULL;
    const bl_json *hit = bl_json_get(j, key);
    if (hit) return hit;
    for (size_t i = 0; i < j->n_items; i++)
        if ((hit = bl_json_find(j->items[i], key))) return hit;
    return NULL;
}

const char *bl_json_type_name(bl_json_type t) {
    static const char *names[] = {"null", "boolean", "number", "string", "array", "object"};
    return (unsigned)t < 6 ? names[t] : "?";
}

/* ---- writing ------------------------------------------------------------------------- */

static bool reserve(bl_strbuf *b, size_t extra) {
    if (b->oom) return false;
    if (b->len + extra + 1 <= b->cap) return true;
    size_t nc = b->cap ? b->cap : 256;
    while (nc < b->len + extra + 1) nc *= 2;
    char *nd = realloc(b->data, nc);
    if (!nd) {
        b->oom = true;
        return false;
    }
    b->data = nd;
    b->cap = nc;
    return true;
}

void bl_strbuf_append(bl_strbuf *b, const void *data, size_t len) {
    if (!reserve(b, len)) return;
    if (len) memcpy(b->data + b->len, data, len);
    b->len += len;
    b->data[b->len] = '\0';
}

void bl_strbuf_puts(bl_strbuf *b, const char *s) { bl_strbuf_append(b, s, strlen(s)); }

void bl_strbuf_printf(bl_strbuf *b, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    char small[256];
    int n = vsnprintf(small, sizeof small, fmt, ap);
    va_end(ap);
    if (n < 0) return;
    if ((size_t)n < sizeof small) {
        bl_strbuf_append(b, small, (size_t)n);
        return;
    }
    if (!reserve(b, (size_t)n)) return;
    va_start(ap, fmt);
    vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
    va_end(ap);
    b->len += (size_t)n;
}

void bl_strbuf_json_string(bl_strbuf *b, const char *s) {
    bl_strbuf_append(b, "\"", 1);
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        if (*p == '"' || *p == '\\') {
            char e[2] = {'\\', (char)*p};
            bl_strbuf_append(b, e, 2);
        } else if (*p == '\n') bl_strbuf_append(b, "\\n", 2);
        else if (*p == '\t') bl_strbuf_append(b, "\\t", 2);
        else if (*p == '\r') bl_strbuf_append(b, "\\r", 2);
        else if (*p < 0x20) bl_strbuf_printf(b, "\\u%04x", *p);
        else bl_strbuf_append(b, p, 1);
    }
    bl_strbuf_append(b, "\"", 1);
}

void bl_strbuf_json_number(bl_strbuf *b, double v) {
    if (!isfinite(v)) {
        bl_strbuf_puts(b, "null");
        return;
    }
    char tmp[40];
    for (int prec = 15; prec <= 17; prec++) {
        snprintf(tmp, sizeof tmp, "%.*g", prec, v);
        if (strtod(tmp, NULL) == v) break;
    }
    /* %g may write "1e+20" or "inf"-free forms only; both are valid JSON numbers */
    bl_strbuf_puts(b, tmp);
}

void bl_strbuf_free(bl_strbuf *b) {
    free(b->data);
    b->data = NULL;
    b->len = b->cap = 0;
    b->oom = false;
}
