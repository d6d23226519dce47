/* strmap.c — string-keyed hash map (see strmap.h).
 * Owns: the slot arrays and the key copies. Threading: none shared.
 */
#include "strmap.h"

#include <stdlib.h> /* calloc, free */
#include <string.h> /* strcmp, strlen, memcpy */

static uint64_t hash(const char *s) {
    uint64_t h = 1469598103934665603ull;
    for (; *s; s++) h = (h ^ (unsigned char)*s) * 1099511628211ull;
    return h;
}

/* Slot of `key`, or of the empty slot where it would go. cap > 0. */
static size_t slot(char *const *keys, size_t cap, const char *key) {
    size_t i = (size_t)hash(key) & (cap - 1);
    while (keys[i] && strcmp(keys[i], key) != 0) i = (i + 1) & (cap - 1);
    return i;
}

static bl_status grow(bl_strmap *m) {
    size_t cap = m->cap ? m->cap * 2 : 64;
    char **keys = calloc(cap, sizeof *keys);
    int64_t *values = calloc(cap, sizeof *values);
    if (!keys || !values) {
        free(keys);
        free(values);
        return BL_ERROR(BL_ERR_NOMEM, "out of memory for a map of %zu names", m->n);
    }
    for (size_t i = 0; i < m->cap; i++) {
        if (!m->keys[i]) continue;
        size_t j = slot(keys, cap, m->keys[i]);
        keys[j] = m->keys[i];
        values[j] = m->values[i];
    }
    free(m->keys);
    free(m->values);
    m->keys = keys;
    m->values = values;
    m->cap = cap;
    return BL_OK;
}

bl_status bl_strmap_put(bl_strmap *m, const char *key, int64_t value) {
    if (2 * (m->n + 1) > m->cap) BL_TRY(grow(m));
    size_t i = slot(m->keys, m->cap, key);
    if (!m->keys[i]) {
        size_t n = strlen(key) + 1;
        char *k = malloc(n);
        BL_CHECK_ALLOC(k);
        memcpy(k, key, n);
        m->keys[i] = k;
        m->n++;
    }
    m->values[i] = value;
    return BL_OK;
}

bool bl_strmap_get(const bl_strmap *m, const char *key, int64_t *value) {
    if (m->cap == 0) return false;
    size_t i = slot(m->keys, m->cap, key);
    if (!m->keys[i]) return false;
    if (value) *value = m->values[i];
    return true;
}

void bl_strmap_free(bl_strmap *m) {
    for (size_t i = 0; i < m->cap; i++) free(m->keys[i]);
    free(m->keys);
    free(m->values);
    m->keys = NULL;
    m->values = NULL;
    m->cap = m->n = 0;
}
