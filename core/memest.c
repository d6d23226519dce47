/* memest.c — memory a run configuration implies (see memest.h).
 * Owns nothing. Threading: pure functions.
 */
#include "memest.h"

#include <stdio.h> /* snprintf */

#include "infile.h" /* bl_format_size */

void bl_memest_compute(const bl_memest_in *in, bl_memest *m) {
    double b = in->batch > 0 ? in->batch : 1;
    m->base = in->base_bytes;
    m->model = in->exec_bytes + BL_MEMEST_EXEC_FIXED;
    m->batches = (int64_t)(b * (double)(in->in_floats_per_item + in->out_floats_per_item) * 4.0);
    m->pool = (int64_t)in->files_in_flight * in->packets_per_slot * in->windows_per_packet *
              in->in_floats_per_item * 4;
    double ratio = in->max_rate_ratio > 1 ? in->max_rate_ratio : 1;
    int ch = in->max_channels > 0 ? in->max_channels : 1;
    m->decode = (int64_t)((double)in->files_in_flight * (double)in->block_frames * ch * 4.0 * (1.0 + 0.5 * ratio));
    m->total = m->base + m->model + m->batches + m->pool + m->decode;
}

void bl_memest_format(const bl_memest *m, char *buf, size_t cap) {
    char t[64], a[64], b[64], c[64], d[64], e[64];
    bl_format_size((uint64_t)m->total, t, sizeof t);
    bl_format_size((uint64_t)m->base, a, sizeof a);
    bl_format_size((uint64_t)m->model, b, sizeof b);
    bl_format_size((uint64_t)m->batches, c, sizeof c);
    bl_format_size((uint64_t)m->pool, d, sizeof d);
    bl_format_size((uint64_t)m->decode, e, sizeof e);
    snprintf(buf, cap, "%s: the process so far %s, the model %s, its batches %s, the block pool %s, decoding %s", t,
             a, b, c, d, e);
}
