/* cli_args.h — the one command-line option parser of the `baleen` commands (core/cmd_*.c).
 *
 * Defines: bl_cli_opt (one row of a command's option table), bl_cli_args (what a command
 * line gave), bl_cli_args_parse/free, the usage-error printer bl_cli_usage() and the value
 * parsers bl_cli_parse_long/bl_cli_parse_double.
 *
 * Rules, the same for every command:
 *   - `--name VALUE`, `--name=VALUE` and `-n VALUE` give a value; a flag takes none
 *     (`--flag=x` is an error);
 *   - any number of options, in any order, mixed with the positional arguments;
 *   - an option that is not repeatable given twice is an error naming both occurrences
 *     ("option -o given twice: '-o A' (argument 2) and '-o B' (argument 10); give it once"),
 *     whatever their spellings (-o and --output are one option);
 *   - a repeatable option (--set) collects every value, in order, into an allocated list;
 *   - a value that is itself one of the command's options (`-o --resume`) is refused: write
 *     `--output=--resume` to mean it;
 *   - an unknown option is an error with a "did you mean" hint when one is close;
 *   - `-h`/`--help` stops parsing and sets `help`; `--` ends the options (everything after
 *     it is positional); `-` alone is positional (standard input or output).
 * "Argument N" in messages counts the words after the (sub)command name, from 1.
 *
 * Errors: BL_ERR_USAGE (or BL_ERR_NOMEM) with a message for bl_error_message().
 * Ownership: the values point into argv; the lists are owned by bl_cli_args (free them with
 * bl_cli_args_free). Threading: no shared state; any thread.
 */
#ifndef BL_CLI_ARGS_H
#define BL_CLI_ARGS_H

#include <stdbool.h>
#include <stddef.h>

#include "error.h" /* bl_status */

/* One option of a command. Commands index their table with an enum, so that
 * args.hits[OPT_X] is the option OPT_X. */
typedef struct {
    const char *long_name; /* "output" for --output; NULL when there is none */
    char short_name;       /* 'o' for -o; 0 when there is none */
    const char *metavar;   /* value placeholder for messages ("DIR"); NULL = a flag, no value */
    bool repeatable;       /* may be given again: every value is kept (--set) */
} bl_cli_opt;

/* What the command line gave for one option. */
typedef struct {
    int count;           /* times given; 0 = absent */
    const char *value;   /* its value (repeatable: the last one); NULL when absent or a flag */
    const char **values; /* repeatable options: all `count` values in order (else NULL) */
    char typed[48];      /* spelling of the first occurrence ("-o" or "--output"; long names
                            of the tables are short, a longer one is cut) */
    int arg;             /* argument number of the first occurrence */
} bl_cli_hit;

typedef struct {
    const bl_cli_opt *opts;
    size_t n_opts;
    bl_cli_hit *hits;  /* one per row of opts */
    const char **pos;  /* positional arguments in order */
    int n_pos;
    int *pos_arg;      /* argument number of each positional */
    bool help;         /* -h or --help was given; parsing stopped there */
} bl_cli_args;

/* Parse argv[1..argc) (argv[0] is the command or subcommand name) against opts[0..n_opts).
 * On BL_OK *out holds the result; on error *out is freed and zeroed (bl_cli_args_free on it
 * is harmless) and bl_error_message() says what is wrong, naming the argument as typed. */
bl_status bl_cli_args_parse(const bl_cli_opt *opts, size_t n_opts, int argc, char *const *argv,
                            bl_cli_args *out);
void bl_cli_args_free(bl_cli_args *a);

/* Print "baleen: error: CONTEXT: MESSAGE (see baleen CMD --help)" to stderr, CMD being the
 * first word of CONTEXT ("model run" → "baleen model --help"), and return BL_EXIT_USAGE. */
int bl_cli_usage(const char *context, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Whole-string decimal integer in [lo, hi] / finite number (strtod syntax); false otherwise. */
bool bl_cli_parse_long(const char *s, long lo, long hi, long *out);
bool bl_cli_parse_double(const char *s, double *out);

/* "baleen CMD ARGS...": the command line as run.json and `bench --json` record it, whole
 * (argv from the command name on; malloc'ed, NULL when out of memory). */
char *bl_cli_command_line(int argc, char *const *argv);

#endif /* BL_CLI_ARGS_H */
