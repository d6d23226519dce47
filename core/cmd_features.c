/* cmd_features.c — placeholder until the module lands. */
#include <stdio.h>
#include "commands.h"
int bl_cmd_features(int argc, char **argv) { (void)argc; (void)argv; fprintf(stderr, "baleen: features: not built yet\n"); return 3; }
