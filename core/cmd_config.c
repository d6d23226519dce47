/* cmd_config.c — `baleen config`: check a config file and print it resolved, print the
 * defaults, or list every key (DESIGN §7; reference in docs/config.md).
 *
 * Owns: nothing beyond one bl_config per call. Single-threaded.
 * Exit codes (DESIGN §8): 0 valid, 1 usage or config error.
 */
#include <stdio.h>  /* the resolved config and the key list go to stdout */
#include <string.h> /* strcmp, strncmp on arguments */

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
    BL_ERROR(BL_ERR_USAGE, "%s%s%s (see baleen config --help)", msg, arg ? " " : "", arg ? arg : "");
    return bl_cli_error(BL_ERR_USAGE, context);
}

/* check FILE / defaults: load (or not), apply --set in order, validate, print. */
static int run_check(int argc, char **argv, bool want_file) {
    const char *context = want_file ? "config check" : "config defaults";
    const char *file = NULL;
    const char *sets[256];
    int n_sets = 0;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        const char *val = NULL;
        if (!strcmp(a, "--set")) {
            if (i + 1 >= argc) return usage_error(context, "--set needs KEY=VALUE", NULL);
            val = argv[++i];
        } else if (!strncmp(a, "--set=", 6)) {
            val = a + 6;
        } else if (a[0] == '-' && a[1]) {
            return usage_error(context, "unknown option", a);
        } else if (want_file && !file) {
            file = a;
            continue;
        } else {
            return usage_error(context, "unexpected argument", a);
        }
        if (n_sets == (int)(sizeof sets / sizeof sets[0]))
            return usage_error(context, "too many --set options", NULL);
        sets[n_sets++] = val;
    }
    if (want_file && !file) return usage_error(context, "missing FILE, e.g. baleen config check configs/demo.yaml", NULL);

    bl_config c;
    bl_status s = want_file ? bl_config_load_file(file, &c) : bl_config_init_defaults(&c);
    for (int i = 0; s == BL_OK && i < n_sets; i++) s = bl_config_set(&c, sets[i]);
    if (s == BL_OK) s = bl_config_validate(&c);
    if (s == BL_OK) s = bl_config_dump(&c, stdout);
    if (s == BL_OK && fflush(stdout) != 0) s = BL_ERROR(BL_ERR_IO, "writing to stdout failed");
    bl_config_free(&c);
    return s == BL_OK ? 0 : bl_cli_error(s, context);
}

static int run_keys(int argc, char **argv) {
    bool md = false;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--markdown")) md = true;
        else return usage_error("config keys", "unexpected argument", argv[i]);
    }
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
