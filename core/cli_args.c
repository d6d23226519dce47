/* cli_args.c — the shared command-line option parser (see cli_args.h for the rules).
 *
 * Owns: per parse, the hit table, the lists of repeatable values and of positional
 * arguments (all in bl_cli_args). The strings themselves stay in argv.
 * Threading: no global state; messages go through the calling thread's bl_error_set.
 */
#include "cli_args.h"

#include <errno.h>  /* strtol/strtod range errors */
#include <math.h>   /* isfinite */
#include <stdarg.h> /* bl_cli_usage's format arguments */
#include <stdio.h>  /* the usage message on stderr */
#include <stdlib.h> /* calloc, realloc, strtol, strtod */
#include <string.h> /* strcmp, strncmp, strchr */

#include "config_keys.h" /* bl_edit_distance for "did you mean" */

/* Values and option names in messages are cut here, so that one hostile argument cannot
 * crowd out the rest of a message (the message buffer holds 1 KiB). */
#define BL_CLI_SHOW 160

/* An option word is `--name`, `--name=value` or `-x`. Returns the row it names, -1 for
 * the built-in -h/--help, -2 when it names no option, -3 when it is not an option word. */
static int find_opt(const bl_cli_opt *opts, size_t n, const char *w, const char **eq) {
    *eq = NULL;
    if (w[0] != '-' || !w[1]) return -3; /* "" and "-" are positional */
    if (w[1] == '-') {
        if (!w[2]) return -3; /* "--": the end of the options, not an option */
        const char *name = w + 2, *e = strchr(name, '=');
        size_t len = e ? (size_t)(e - name) : strlen(name);
        *eq = e;
        if (len == 4 && !strncmp(name, "help", 4)) return -1;
        for (size_t i = 0; i < n; i++)
            if (opts[i].long_name && strlen(opts[i].long_name) == len && !strncmp(opts[i].long_name, name, len))
                return (int)i;
        return -2;
    }
    if (w[2]) return -2; /* "-xyz": no bundling and no -oVALUE */
    if (w[1] == 'h') return -1;
    for (size_t i = 0; i < n; i++)
        if (opts[i].short_name && opts[i].short_name == w[1]) return (int)i;
    return -2;
}

/* "-o/--output", "--set" or "-x": how an option is named in messages. */
static void opt_name(const bl_cli_opt *o, char *buf, size_t cap) {
    if (o->short_name && o->long_name) snprintf(buf, cap, "-%c/--%s", o->short_name, o->long_name);
    else if (o->long_name) snprintf(buf, cap, "--%s", o->long_name);
    else snprintf(buf, cap, "-%c", o->short_name);
}


/* The closest long name to the unknown word w ("--thread", "-output", "--formt=csv"), or NULL. */
static const char *suggest(const bl_cli_opt *opts, size_t n, const char *w) {
    const char *name = w + (w[1] == '-' ? 2 : 1), *e = strchr(name, '=');
    size_t len = e ? (size_t)(e - name) : strlen(name);
    size_t budget = len <= 4 ? 1 : len <= 8 ? 2 : 3, best = budget + 1;
    const char *hit = NULL;
    for (size_t i = 0; i < n; i++) {
        if (!opts[i].long_name) continue;
        size_t d = bl_edit_distance(name, len, opts[i].long_name, strlen(opts[i].long_name));
        if (d < best) best = d, hit = opts[i].long_name;
    }
    if (!hit && len == 4 && !strncmp(name, "help", 4)) hit = "help"; /* "-help" */
    return hit;
}

/* How one occurrence was written: "--output=B" or "-o B". */
static void occurrence(char *const *argv, int i, bool eq_form, bool takes_value, char *buf, size_t cap) {
    if (eq_form || !takes_value) {
        size_t n = strlen(argv[i]);
        snprintf(buf, cap, "%.*s%s", BL_CLI_SHOW, argv[i], n > BL_CLI_SHOW ? "..." : "");
    } else {
        size_t n = strlen(argv[i + 1]);
        snprintf(buf, cap, "%s %.*s%s", argv[i], BL_CLI_SHOW, argv[i + 1], n > BL_CLI_SHOW ? "..." : "");
    }
}

void bl_cli_args_free(bl_cli_args *a) {
    if (!a) return;
    for (size_t i = 0; a->hits && i < a->n_opts; i++) free((void *)a->hits[i].values);
    free(a->hits);
    free((void *)a->pos);
    free(a->pos_arg);
    memset(a, 0, sizeof *a);
}

static bl_status parse_fail(bl_cli_args *a, bl_status s) {
    bl_cli_args_free(a);
    return s;
}

bl_status bl_cli_args_parse(const bl_cli_opt *opts, size_t n_opts, int argc, char *const *argv,
                            bl_cli_args *out) {
    BL_RETURN_IF(!out || (!opts && n_opts) || argc < 0 || (argc > 0 && !argv), BL_ERR_INVALID_ARG,
                 "bl_cli_args_parse: no table, arguments or result");
    memset(out, 0, sizeof *out);
    for (size_t i = 0; i < n_opts; i++)
        BL_RETURN_IF((!opts[i].long_name && !opts[i].short_name) ||
                         (opts[i].long_name && strlen(opts[i].long_name) + 3 > sizeof out->hits->typed),
                     BL_ERR_INTERNAL, "bl_cli_args_parse: option table row %zu has no name or too long a one", i);
    out->opts = opts;
    out->n_opts = n_opts;
    out->hits = calloc(n_opts ? n_opts : 1, sizeof *out->hits);
    out->pos = calloc(argc > 0 ? (size_t)argc : 1, sizeof *out->pos);
    out->pos_arg = calloc(argc > 0 ? (size_t)argc : 1, sizeof *out->pos_arg);
    if (!out->hits || !out->pos || !out->pos_arg)
        return parse_fail(out, BL_ERROR(BL_ERR_NOMEM, "out of memory parsing %d arguments", argc));
    char name[96], first[BL_CLI_SHOW + 96], again[BL_CLI_SHOW + 96];
    bool options_end = false;
    for (int i = 1; i < argc; i++) {
        const char *w = argv[i], *eq;
        int k = options_end ? -3 : find_opt(opts, n_opts, w, &eq);
        if (k == -3) {
            if (!options_end && !strcmp(w, "--")) {
                options_end = true;
                continue;
            }
            out->pos_arg[out->n_pos] = i;
            out->pos[out->n_pos++] = w;
            continue;
        }
        if (k == -1) {
            out->help = true;
            return BL_OK;
        }
        if (k == -2) {
            const char *hint = suggest(opts, n_opts, w);
            size_t n = strlen(w);
            if (hint)
                return parse_fail(out, BL_ERROR(BL_ERR_USAGE, "unknown option %.*s%s (argument %d; did you mean --%s?)",
                                                BL_CLI_SHOW, w, n > BL_CLI_SHOW ? "..." : "", i, hint));
            return parse_fail(out, BL_ERROR(BL_ERR_USAGE, "unknown option %.*s%s (argument %d)", BL_CLI_SHOW, w,
                                            n > BL_CLI_SHOW ? "..." : "", i));
        }
        const bl_cli_opt *o = &opts[k];
        bl_cli_hit *h = &out->hits[k];
        opt_name(o, name, sizeof name);
        /* the spelling as typed, without "=value" */
        int typed_len = eq ? (int)(eq - w) : (int)strlen(w);
        const char *value = NULL;
        if (!o->metavar) {
            if (eq)
                return parse_fail(out, BL_ERROR(BL_ERR_USAGE, "option %.*s takes no value (argument %d is '%.*s%s')",
                                                typed_len, w, i, BL_CLI_SHOW, w, strlen(w) > BL_CLI_SHOW ? "..." : ""));
        } else if (eq) {
            value = eq + 1;
        } else if (i + 1 >= argc) {
            return parse_fail(out, BL_ERROR(BL_ERR_USAGE, "option %s needs a value: %s %s (argument %d is the last)",
                                            w, w, o->metavar, i));
        } else {
            const char *next = argv[i + 1], *eq2;
            if (find_opt(opts, n_opts, next, &eq2) >= -1) {
                size_t n = strlen(next);
                if (o->long_name)
                    return parse_fail(out, BL_ERROR(BL_ERR_USAGE,
                                                    "option %s needs a value (%s %s), but argument %d is the option "
                                                    "'%.*s%s'; to give a value that looks like an option, write --%s=%.*s%s",
                                                    w, w, o->metavar, i + 1, BL_CLI_SHOW, next, n > BL_CLI_SHOW ? "..." : "",
                                                    o->long_name, BL_CLI_SHOW, next, n > BL_CLI_SHOW ? "..." : ""));
                return parse_fail(out, BL_ERROR(BL_ERR_USAGE, "option %s needs a value (%s %s), but argument %d is the option '%.*s%s'",
                                                w, w, o->metavar, i + 1, BL_CLI_SHOW, next, n > BL_CLI_SHOW ? "..." : ""));
            }
            value = next;
        }
        if (h->count > 0 && !o->repeatable) {
            int j = h->arg;
            const char *eqj;
            (void)find_opt(opts, n_opts, argv[j], &eqj);
            occurrence(argv, j, eqj != NULL, o->metavar != NULL, first, sizeof first);
            occurrence(argv, i, eq != NULL, o->metavar != NULL, again, sizeof again);
            return parse_fail(out, BL_ERROR(BL_ERR_USAGE,
                                            "option %s given twice: '%s' (argument %d) and '%s' (argument %d); give it once",
                                            name, first, j, again, i));
        }
        if (o->repeatable && o->metavar) {
            if (!h->values) /* room for every argument: no option is given more often */
                h->values = calloc((size_t)argc, sizeof *h->values);
            if (!h->values) return parse_fail(out, BL_ERROR(BL_ERR_NOMEM, "out of memory collecting %s values", name));
            h->values[h->count] = value;
        }
        if (h->count == 0) {
            if (w[1] == '-') snprintf(h->typed, sizeof h->typed, "--%s", o->long_name);
            else snprintf(h->typed, sizeof h->typed, "-%c", o->short_name);
            h->arg = i;
        }
        h->count++;
        h->value = value;
        if (value && !eq) i++; /* the value was the next argument */
    }
    return BL_OK;
}

int bl_cli_usage(const char *context, const char *fmt, ...) {
    char msg[1200];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    size_t cmd = strcspn(context, " ");
    fprintf(stderr, "baleen: error: %s: %s (see baleen %.*s --help)\n", context, msg, (int)cmd, context);
    return BL_EXIT_USAGE;
}

bool bl_cli_parse_long(const char *s, long lo, long hi, long *out) {
    char *end;
    if (!s || !*s) return false;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (end == s || *end || errno || v < lo || v > hi) return false;
    *out = v;
    return true;
}

bool bl_cli_parse_double(const char *s, double *out) {
    char *end;
    if (!s || !*s) return false;
    errno = 0;
    double v = strtod(s, &end);
    if (end == s || *end || errno || !isfinite(v)) return false;
    *out = v;
    return true;
}

char *bl_cli_command_line(int argc, char *const *argv) {
    size_t n = strlen("baleen") + 1;
    for (int i = 0; i < argc; i++) n += strlen(argv[i]) + 1;
    char *c = malloc(n), *p = c;
    if (!c) return NULL;
    p += sprintf(p, "baleen");
    for (int i = 0; i < argc; i++) p += sprintf(p, " %s", argv[i]);
    return c;
}
