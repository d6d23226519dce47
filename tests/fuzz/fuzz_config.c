/* fuzz_config.c — libFuzzer target for the config loader (core/config.h).
 *
 * Feeds the bytes to bl_config_load_string; when they load, validates and dumps the config
 * into a memory stream, and loads the dump back (it must load: a dump of a loaded config is
 * always valid YAML of the same keys). The first line, when it holds '=', is also tried as a
 * --set argument on a default config. Everything is freed, so ASan's leak check applies.
 */
#include <stdint.h> /* uint8_t: the libFuzzer entry point */
#include <stdio.h>  /* open_memstream */
#include <stdlib.h> /* malloc, free, abort on a broken invariant */
#include <string.h> /* memchr, memcpy: the first line as a --set argument */

#include "core/config.h" /* the module under test */

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    bl_config c;
    if (bl_config_load_string((const char *)data, size, "fuzz.yaml", &c) == BL_OK) {
        (void)bl_config_validate(&c);
        char *buf = NULL;
        size_t len = 0;
        FILE *f = open_memstream(&buf, &len);
        if (f) {
            bl_status s = bl_config_dump(&c, f);
            fclose(f);
            bl_config back;
            if (s == BL_OK && bl_config_load_string(buf, len, "dump.yaml", &back) != BL_OK) {
                fprintf(stderr, "a dump did not load back: %s\n%s\n", bl_error_message(), buf);
                abort(); /* a fuzz finding: the dump of a loaded config must load */
            }
            if (s == BL_OK && !bl_config_equal(&c, &back)) {
                fprintf(stderr, "a dump loaded back differently:\n%s\n", buf);
                abort();
            }
            if (s == BL_OK) bl_config_free(&back);
            free(buf);
        }
    }
    bl_config_free(&c);

    /* the first line as a --set argument */
    const uint8_t *nl = memchr(data, '\n', size);
    size_t n = nl ? (size_t)(nl - data) : size;
    if (n > 0 && n < 4096 && memchr(data, '=', n)) {
        char *arg = malloc(n + 1);
        if (!arg) return 0;
        memcpy(arg, data, n);
        arg[n] = '\0';
        if (bl_config_init_defaults(&c) == BL_OK) {
            if (bl_config_set(&c, arg) == BL_OK) (void)bl_config_validate(&c);
            bl_config_free(&c);
        }
        free(arg);
    }
    return 0;
}
