/* cmd_config.c — placeholder until the module lands. */
#include <stdio.h>
#include "commands.h"
int bl_cmd_config(int argc, char **argv) { (void)argc; (void)argv; fprintf(stderr, "baleen: config: not built yet\n"); return 3; }
