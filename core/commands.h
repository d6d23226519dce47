/* commands.h — the `baleen` subcommands. Each takes argc/argv after the command name
 * (argv[0] is the command name) and returns a process exit code (DESIGN §8). Each lives in
 * its own core/cmd_<name>.c, parses its options with the shared parser (core/cli_args.h: one
 * table per command, the same rules everywhere), prints its own --help with an example, and
 * reports errors with bl_cli_error() (usage errors: bl_cli_usage()). */
#ifndef BL_COMMANDS_H
#define BL_COMMANDS_H

#include "error.h"

int bl_cmd_synth(int argc, char **argv);
int bl_cmd_features(int argc, char **argv);
int bl_cmd_config(int argc, char **argv);
int bl_cmd_model(int argc, char **argv);
int bl_cmd_export(int argc, char **argv);
int bl_cmd_run(int argc, char **argv);
int bl_cmd_bench(int argc, char **argv);
int bl_cmd_devices(int argc, char **argv);

/* Print "baleen: error: <context>: <message of this thread> (<where>)" and return the exit
 * code for `s`. Shared by every command so that errors look the same everywhere. */
int bl_cli_error(bl_status s, const char *context);

#endif
