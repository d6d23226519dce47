/* source_spec.h — one configured source (config `sources:`), as the planner (io/sources.h)
 * takes it: plain strings, no dependency on the run config, so that io/ never needs the
 * config loader (data flows one way: io/ stands below the engine). core/config.h holds a
 * list of them.
 *
 * Defines: bl_source_cfg. Ownership: the holder frees the strings (bl_config_free).
 */
#ifndef BL_SOURCE_SPEC_H
#define BL_SOURCE_SPEC_H

typedef struct {
    char *path;         /* file, directory, glob, URL or manifest CSV */
    char *time_pattern; /* strftime-style pattern giving the start time from the name, or NULL */
    char *start;        /* window start: seconds from the file's start or ISO-8601 UTC; NULL = start */
    char *end;          /* window end, same forms; NULL = end of file */
} bl_source_cfg;

#endif
