/* strmap.h — a string-keyed hash map to int64 values, for the places that meet one name per
 * row or per file and must not search linearly (export's sources, the planner's duplicates).
 *
 * Defines: bl_strmap, bl_strmap_put(), bl_strmap_get(), bl_strmap_free().
 * Open addressing with linear probing (FNV-1a hash), grown at 1/2 load; keys are copied.
 *
 * Ownership: the map owns its key copies. Threading: one thread at a time per map.
 */
#ifndef BL_STRMAP_H
#define BL_STRMAP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "error.h" /* bl_status */

typedef struct {
    char **keys;     /* NULL = empty slot */
    int64_t *values;
    size_t cap, n;   /* cap is 0 or a power of two */
} bl_strmap;

/* Insert or replace key → value. BL_ERR_NOMEM. */
bl_status bl_strmap_put(bl_strmap *m, const char *key, int64_t value);
/* True and *value when the key is present. */
bool bl_strmap_get(const bl_strmap *m, const char *key, int64_t *value);
void bl_strmap_free(bl_strmap *m);

#endif
