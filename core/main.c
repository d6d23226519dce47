/* main.c — the `baleen` binary: global options, subcommand dispatch, exit codes.
 *
 * The only place that exits (DESIGN §8). Each subcommand lives in core/cmd_<name>.c.
 */
#include <stdio.h>
#include <string.h>

#include "bl_version.h" /* BL_VERSION, BL_GIT_COMMIT (generated at configure time) */
#include "commands.h"
#include "log.h"

typedef struct {
    const char *name;
    int (*fn)(int, char **);
    const char *summary;
} bl_command;

static const bl_command k_commands[] = {
    {"synth", bl_cmd_synth, "write synthetic hydrophone-like audio with a ground-truth CSV"},
    {"features", bl_cmd_features, "compute the front end's (log-)mel features of a file into .npy"},
    {"config", bl_cmd_config, "check a config file and print it resolved (`config check FILE`)"},
    {"model", bl_cmd_model, "inspect an ONNX model (`model info MODEL`)"},
    {"export", bl_cmd_export, "write one table of an output directory as csv, jsonl or Raven tables"},
    {"run", bl_cmd_run, "scan the sources of a config with its model into an output directory"},
    {"bench", bl_cmd_bench, "how fast a model scans audio here, where the time goes, which batch size"},
    {"devices", bl_cmd_devices, "the backends and GPUs baleen can use here, and why not when it cannot"},
};

static void print_help(FILE *f) {
    fprintf(f,
            "baleen %s — scan large audio archives with spectrogram CNNs\n\n"
            "usage: baleen [-v|-q] <command> [options]\n"
            "       baleen <command> --help\n\n"
            "commands:\n",
            BL_VERSION);
    for (size_t i = 0; i < sizeof k_commands / sizeof k_commands[0]; i++)
        fprintf(f, "  %-10s %s\n", k_commands[i].name, k_commands[i].summary);
    fprintf(f,
            "\nglobal options:\n"
            "  -h, --help     this help\n"
            "  -V, --version  version and git commit\n"
            "  -v, --verbose  more messages (repeat for debug)\n"
            "  -q, --quiet    errors only\n\n"
            "examples:\n"
            "  baleen synth -o demo.wav --seconds 600 --calls 20 --seed 1\n"
            "  baleen features demo.wav --config configs/demo.yaml -o demo.npy\n"
            "  baleen config check configs/demo.yaml --set frontend.n_mels=128\n\n"
            "exit codes: 0 done, 1 usage or config error, 2 some inputs failed, 3 fatal error.\n"
            "docs: docs/cli.md, docs/config.md\n");
}

int bl_cli_error(bl_status s, const char *context) {
    const char *msg = bl_error_message();
    if (msg[0])
        fprintf(stderr, "baleen: error: %s%s%s\n", context ? context : "", context ? ": " : "", msg);
    else
        fprintf(stderr, "baleen: error: %s%s%s\n", context ? context : "", context ? ": " : "",
                bl_strerror(s));
    if (bl_log_get_level() >= BL_LOG_DEBUG && bl_error_where()[0])
        fprintf(stderr, "baleen: debug: (%s, %s)\n", bl_errname(s), bl_error_where());
    return bl_status_exit_code(s);
}

int main(int argc, char **argv) {
    int i = 1;
    int verbosity = BL_LOG_INFO;
    for (; i < argc && argv[i][0] == '-'; i++) {
        const char *a = argv[i];
        if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
            print_help(stdout);
            return BL_EXIT_OK;
        } else if (!strcmp(a, "-V") || !strcmp(a, "--version")) {
            printf("baleen %s (commit %s)\n", BL_VERSION, BL_GIT_COMMIT);
            return BL_EXIT_OK;
        } else if (!strcmp(a, "-v") || !strcmp(a, "--verbose")) {
            verbosity++;
        } else if (!strcmp(a, "-vv")) {
            verbosity += 2;
        } else if (!strcmp(a, "-q") || !strcmp(a, "--quiet")) {
            verbosity = BL_LOG_ERROR;
        } else {
            fprintf(stderr, "baleen: error: unknown option '%s' (see baleen --help)\n", a);
            return BL_EXIT_USAGE;
        }
    }
    bl_log_set_level(verbosity > BL_LOG_DEBUG ? BL_LOG_DEBUG : (bl_log_level)verbosity);
    if (i >= argc) {
        print_help(stderr);
        return BL_EXIT_USAGE;
    }
    if (!strcmp(argv[i], "help")) {
        print_help(stdout);
        return BL_EXIT_OK;
    }
    if (!strcmp(argv[i], "version")) {
        printf("baleen %s (commit %s)\n", BL_VERSION, BL_GIT_COMMIT);
        return BL_EXIT_OK;
    }
    for (size_t k = 0; k < sizeof k_commands / sizeof k_commands[0]; k++)
        if (!strcmp(argv[i], k_commands[k].name)) return k_commands[k].fn(argc - i, argv + i);
    fprintf(stderr, "baleen: error: unknown command '%s' (see baleen --help)\n", argv[i]);
    return BL_EXIT_USAGE;
}
