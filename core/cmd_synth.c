/* cmd_synth.c — placeholder until the module lands. */
#include <stdio.h>
#include "commands.h"
int bl_cmd_synth(int argc, char **argv) { (void)argc; (void)argv; fprintf(stderr, "baleen: synth: not built yet\n"); return 3; }
