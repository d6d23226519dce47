/* fuzz_card.c — libFuzzer target for the model card loader (models/card.h).
 *
 * Feeds the bytes to bl_card_load_string; when they load, dumps the card into a memory
 * stream and loads the dump back: it must load, and dump to the same text (a dump of a
 * loaded card is a valid card of the same keys). A loaded card's front end is also resolved
 * against a default config. Everything is freed, so ASan's leak check applies.
 */
#include <stdint.h> /* uint8_t: the libFuzzer entry point */
#include <stdio.h>  /* open_memstream */
#include <stdlib.h> /* free, abort on a broken invariant */
#include <string.h> /* strcmp: the two dumps */

#include "core/config.h" /* a default config for bl_card_resolve_frontend */
#include "models/card.h" /* the module under test */

static char *dump(const bl_model_card *c) {
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    if (!f) return NULL;
    bl_status s = bl_card_dump(c, f);
    fclose(f);
    if (s != BL_OK) {
        free(buf);
        return NULL;
    }
    return buf;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    bl_model_card c;
    if (bl_card_load_string((const char *)data, size, "fuzz.yaml", &c) == BL_OK) {
        char *d1 = dump(&c);
        if (d1) {
            bl_model_card back;
            if (bl_card_load_string(d1, strlen(d1), "dump.yaml", &back) != BL_OK) {
                fprintf(stderr, "a card dump did not load back: %s\n%s\n", bl_error_message(), d1);
                abort(); /* a fuzz finding: the dump of a loaded card must load */
            }
            char *d2 = dump(&back);
            if (d2 && strcmp(d1, d2)) {
                fprintf(stderr, "a card dump loaded back differently:\n%s---\n%s\n", d1, d2);
                abort();
            }
            free(d2);
            bl_card_free(&back);
            free(d1);
        }
        bl_config cfg;
        if (bl_config_init_defaults(&cfg) == BL_OK) {
            bl_frontend_params fe;
            if (bl_card_resolve_frontend(&c, &cfg, &fe) != BL_OK) {
                fprintf(stderr, "a valid card did not resolve against the defaults: %s\n", bl_error_message());
                abort(); /* nothing is set in a default config: the card's front end must pass */
            }
        }
        bl_config_free(&cfg);
    }
    bl_card_free(&c);
    return 0;
}
