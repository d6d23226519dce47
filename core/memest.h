/* memest.h — the memory a `baleen run` configuration implies, estimated before anything big is
 * allocated, so that a batch.size of 65536 is refused with the figures instead of taking the
 * machine down (issue 10, item 8).
 *
 * Defines: bl_memest_in (what the estimate is made of), bl_memest (the parts and the
 * total), bl_memest_compute(), bl_memest_format().
 *
 * The model: the process as it stands (its resident memory when the estimate is made: the
 * libraries, the loaded graph and its weights), plus
 *   model     — what the executor plans for the batch: packed weights, its activation arena
 *               and its workspace (bl_exec_stats), measured by building small executors
 *               (no batch is run) and extrapolated linearly in the batch size, plus
 *               BL_MEMEST_EXEC_FIXED for primitives, JIT code and thread stacks;
 *   batches   — the model stage's input batch and outputs;
 *   pool      — the block pool of the files in flight (packets × windows × floats);
 *   decode    — per file in flight, about 1.5 decoded blocks per channel at the front-end
 *               rate (more when resampling down from a higher rate).
 * Measured against the peak RSS of real runs (tests/hostile/hostile.sh memory): within 25%
 * for the zoo and test models from batch 1 to 4096.
 *
 * Threading: pure functions.
 */
#ifndef BL_MEMEST_H
#define BL_MEMEST_H

#include <stddef.h>
#include <stdint.h>

#define BL_MEMEST_EXEC_FIXED ((int64_t)6 << 20)

typedef struct {
    int64_t base_bytes;          /* resident memory now */
    int64_t exec_bytes;          /* the executor's planned bytes at this batch size */
    int64_t in_floats_per_item;  /* model input per window (n_mels × window_frames) */
    int64_t out_floats_per_item; /* model outputs per window (classes...) */
    int batch;
    int files_in_flight;         /* files decoded at once: min(runtime.files_in_flight, inputs) */
    int packets_per_slot, windows_per_packet;
    int64_t block_frames;        /* per channel, at the front-end rate */
    int max_channels;            /* of any input */
    double max_rate_ratio;       /* largest file rate / front-end rate (decode before resampling) */
} bl_memest_in;

typedef struct {
    int64_t base, model, batches, pool, decode;
    int64_t total;
} bl_memest;

void bl_memest_compute(const bl_memest_in *in, bl_memest *out);
/* "1.42 GB: the process so far 22 MB, the model 1.31 GB, its batches 98 MB, ..." */
void bl_memest_format(const bl_memest *m, char *buf, size_t cap);

#endif
