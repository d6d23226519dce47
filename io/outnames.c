/* outnames.c — per-source output names (see outnames.h).
 * Owns nothing. Threading: pure functions.
 */
#include "outnames.h"

#include <stdio.h>   /* snprintf */
#include <stdlib.h>  /* malloc */
#include <string.h>  /* strlen, strrchr, strchr */
#include <strings.h> /* strcasecmp */

static int safe_char(char ch) {
    return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
           (ch && strchr("-_.+=@,", ch));
}

void bl_outname_clean(char *buf, size_t cap, size_t *len, const char *s, size_t max) {
    if (cap == 0) return;
    for (size_t i = 0; s[i] && i < max && *len + 1 < cap; i++) buf[(*len)++] = safe_char(s[i]) ? s[i] : '_';
    buf[*len] = '\0';
}

char *bl_outname_source(int64_t index, const char *key) {
    static const char *const ext[] = {".wav", ".flac", ".ogg", ".opus", ".mp3", ".aif", ".aiff", ".w64", ".rf64", ".caf"};
    const char *k = key ? key : "";
    const char *slash = strrchr(k, '/');
    const char *bs = strrchr(slash ? slash : k, '\\');
    const char *base = bs ? bs + 1 : slash ? slash + 1 : k;
    size_t n = strlen(base);
    for (size_t i = 0; i < sizeof ext / sizeof *ext; i++) {
        size_t m = strlen(ext[i]);
        if (n > m && !strcasecmp(base + n - m, ext[i])) {
            n -= m;
            break;
        }
    }
    char stem[BL_OUTNAME_STEM_MAX + 1];
    size_t len = 0;
    stem[0] = '\0';
    /* a leading '.' would hide the file */
    while (n > 0 && *base == '.') base++, n--;
    char part[BL_OUTNAME_STEM_MAX + 1];
    size_t pn = n < BL_OUTNAME_STEM_MAX ? n : BL_OUTNAME_STEM_MAX;
    memcpy(part, base, pn);
    part[pn] = '\0';
    bl_outname_clean(stem, sizeof stem, &len, pn ? part : "source", BL_OUTNAME_STEM_MAX);
    size_t cap = len + 32;
    char *out = malloc(cap);
    if (out) snprintf(out, cap, "%05lld_%s", (long long)index, stem);
    return out;
}
