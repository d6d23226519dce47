/* cmd_config.c — `baleen config`: check a config file and print it resolved, print the
 * defaults, or list every key (DESIGN §7; reference in docs/config.md).
 *
 * Owns: nothing beyond one bl_config per call. Options: core/cli_args.c. Single-threaded.
 * Exit codes (DESIGN §8): 0 valid, 1 usage or config error.
 */
#include <stdio.h>  /* the resolved config and the key list go to stdout */
#include <string.h> /* strcmp, strncmp on arguments */

#include "cli_args.h" /* bl_cli_args_parse: the options */
#include "commands.h" /* bl_cmd_config, bl_cli_error */
#include "config.h"   /* loading, --set, validation, dump, key reference */

static void print_help(FILE *f) {
    fprintf(f,
            "baleen config — check, explain and print run configurations\n"
            "\n"
            "usage:\n"
            "  baleen config check FILE [--set KEY=VALUE]...  validate FILE, print it resolved\n"
            "  baleen config defaults [--set KEY=VALUE]...    print the default config\n"
            "  baleen config keys [--markdown]                list every key: type, default, meaning\n"
            "\n"
            "A config is one YAML file. Every key has a default, so a file holds only the keys\n"
            "it changes; sections nest (frontend: {mel: {n_mels: 128}}). Unknown keys, wrong\n"
            "types and out-of-range values are errors that name FILE:LINE:COLUMN and the key.\n"
            "\n"
            "--set KEY=VALUE overrides one key after the file is read, in the order given.\n"
            "KEY is the dotted path of `baleen config keys`; VALUE is read as YAML: a number,\n"
            "a word, a quoted string or a list [a, b]; a section takes a mapping {k: v}.\n"
            "\n"
            "examples:\n"
            "  baleen config check configs/demo.yaml\n"
            "  baleen config check configs/demo.yaml --set frontend.mel.n_mels=128 \\\n"
            "      --set 'pooling.aggregates=[max, p90, top3_mean]'\n"
            "  baleen config check my.yaml --set 'sources=[day1.wav, day2.wav]' --set runtime.backend=cpu\n"
            "  baleen config defaults > my.yaml      # a complete starting point\n"
            "  baleen config keys --markdown         # the table of docs/config.md\n"
            "\n"
            "exit codes: 0 valid (resolved config on stdout), 1 usage or config error\n"
            "(message on stderr). Reference: docs/config.md\n");
}

static int usage_error(const char *context, const char *msg, const char *arg) {
    if (arg) return bl_cli_usage(context, "%s '%.160s'", msg, arg);
    return bl_cli_usage(context, "%s", msg);
}

enum { CHECK_SET, N_CHECK_OPTS };
static const bl_cli_opt k_check_opts[N_CHECK_OPTS] = {[CHECK_SET] = {"set", 0, "KEY=VALUE", true}};
enum { KEYS_MARKDOWN, N_KEYS_OPTS };
static const bl_cli_opt k_keys_opts[N_KEYS_OPTS] = {[KEYS_MARKDOWN] = {"markdown", 0, NULL, false}};

/* check FILE / defaults: load (or not), apply --set in order, validate, print. */
static int run_check(int argc, char **argv, bool want_file) {
    const char *context = want_file ? "config check" : "config defaults";
    bl_cli_args a;
    if (bl_cli_args_parse(k_check_opts, N_CHECK_OPTS, argc, argv, &a) != BL_OK)
        return usage_error(context, bl_error_message(), NULL);
    int rc = -1;
    if (a.help) {
        print_help(stdout);
        rc = 0;
    } else if (a.n_pos > (want_file ? 1 : 0)) {
        rc = usage_error(context, "unexpected argument", a.pos[want_file ? 1 : 0]);
    } else if (want_file && a.n_pos == 0) {
        rc = usage_error(context, "missing FILE, e.g. baleen config check configs/demo.yaml", NULL);
    }
    if (rc >= 0) {
        bl_cli_args_free(&a);
        return rc;
    }
    const char *file = want_file ? a.pos[0] : NULL;
    const bl_cli_hit *sets = &a.hits[CHECK_SET];
    bl_config c;
    bl_status s = want_file ? bl_config_load_file(file, &c) : bl_config_init_defaults(&c);
    for (int i = 0; s == BL_OK && i < sets->count; i++) s = bl_config_set(&c, sets->values[i]);
    bl_cli_args_free(&a);
    if (s == BL_OK) s = bl_config_validate(&c);
    if (s == BL_OK) s = bl_config_dump(&c, stdout);
    if (s == BL_OK && fflush(stdout) != 0) s = BL_ERROR(BL_ERR_IO, "writing to stdout failed");
    bl_config_free(&c);
    return s == BL_OK ? 0 : bl_cli_error(s, context);
}

static int run_keys(int argc, char **argv) {
    bl_cli_args a;
    if (bl_cli_args_parse(k_keys_opts, N_KEYS_OPTS, argc, argv, &a) != BL_OK)
        return usage_error("config keys", bl_error_message(), NULL);
    bool md = a.hits[KEYS_MARKDOWN].count > 0, help = a.help;
    const char *extra = a.n_pos > 0 ? a.pos[0] : NULL;
    bl_cli_args_free(&a);
    if (help) {
        print_help(stdout);
        return 0;
    }
    if (extra) return usage_error("config keys", "unexpected argument", extra);
    bl_status s = md ? bl_config_write_keys_markdown(stdout) : bl_config_write_keys_text(stdout);
    if (s == BL_OK && fflush(stdout) != 0) s = BL_ERROR(BL_ERR_IO, "writing to stdout failed");
    return s == BL_OK ? 0 : bl_cli_error(s, "config keys");
}

int bl_cmd_config(int argc, char **argv) {
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--")) break;
        if (!strcmp(argv[i], "--set")) { /* its value is not an option */
            i++;
            continue;
        }
        if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help") || !strcmp(argv[i], "help")) {
            print_help(stdout);
            return 0;
        }
    }
    if (argc < 2) {
        print_help(stderr);
        return 1;
    }
    const char *sub = argv[1];
    if (!strcmp(sub, "check")) return run_check(argc - 1, argv + 1, true);
    if (!strcmp(sub, "defaults")) return run_check(argc - 1, argv + 1, false);
    if (!strcmp(sub, "keys")) return run_keys(argc - 1, argv + 1);
    return usage_error("config", "unknown subcommand (check, defaults or keys):", sub);
}
