/* outnames.h — file names of per-source outputs (clips, persisted features, per-source
 * exports): unique by construction, readable, and always short enough (issue 10, item 2).
 *
 * A name starts with the source's index in the run's plan (its place in run.json "inputs",
 * zero-padded to 5 digits, more when needed), then '_' and a readable stem of its key: the
 * last path component with a known audio extension removed, characters other than letters,
 * digits and "-_.+=@," turned into '_', cut to BL_OUTNAME_STEM_MAX bytes. Two sources can
 * share a stem (x/a.wav, x_a.wav, the same day in two folders) but never an index, so their
 * files never overwrite each other; the stem is there for people, never for uniqueness.
 *
 * Defines: bl_outname_source(), bl_outname_clean().
 * Threading: pure functions.
 */
#ifndef BL_OUTNAMES_H
#define BL_OUTNAMES_H

#include <stddef.h>
#include <stdint.h>

/* Longest stem, in bytes; with the index, channel, time and labels of a clip a name stays
 * well under the 255 bytes file systems allow. */
#define BL_OUTNAME_STEM_MAX 80

/* "<index>_<stem>" as a malloc'ed string (NULL when out of memory). */
char *bl_outname_source(int64_t index, const char *key);
/* Append `s` made safe for a file name (as the stem's characters) to buf[*len], at most
 * `max` bytes of it and never past cap - 1; NUL-terminates. */
void bl_outname_clean(char *buf, size_t cap, size_t *len, const char *s, size_t max);

#endif
