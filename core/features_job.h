/* features_job.h — the work behind `baleen features`: one audio file's front-end features
 * written as float32 .npy [channels, n_mels, frames], and the writer that lays them out.
 *
 * Defines:
 *   bl_feat_writer       — builds OUT.npy from time-major frames put channel by channel.
 *                          When the frame count is known up front it writes each mel row's
 *                          slice straight to its final offset in the output (pwrite); frames
 *                          it was not told about go to a spill file and the file is
 *                          assembled at the end, so any count works, only slower.
 *   bl_features_compute  — decode (bl_audio_stream) → one bl_fe_stream per channel →
 *                          bl_feat_writer, with decoding on its own thread when threads > 1.
 *
 * Output bytes never depend on the thread count, the block sizes, or whether the length was
 * known up front. Memory is bounded whatever the file length; the output appears
 * atomically (temporary name next to it, fsync, rename) and nothing is left behind on
 * failure.
 *
 * Threading: a writer is used by one thread at a time. bl_features_compute runs on the
 * caller's thread and starts (and always joins) its own decode and front-end workers.
 */
#ifndef BL_FEATURES_JOB_H
#define BL_FEATURES_JOB_H

#include <stddef.h>
#include <stdint.h>

#include "config.h"   /* bl_nonfinite_mode, bl_truncated_mode */
#include "error.h"    /* bl_status */
#include "frontend.h" /* bl_frontend_params */

typedef struct bl_feat_writer bl_feat_writer;

/* Start writing `out_path` for `channels` x `n_mels` rows. expected_frames: the frame count
 * when known (rows are laid out for it and filled in place), -1 when not (everything is
 * spilled and assembled at the end). A wrong expectation only costs the assembly. */
bl_status bl_feat_writer_open(const char *out_path, int channels, int n_mels,
                              int64_t expected_frames, bl_feat_writer **out);
/* Append n frames ([n][n_mels], time-major) to channel `channel`. Channels may be put in
 * any order and pieces of any size; all must end with the same count. */
bl_status bl_feat_writer_put(bl_feat_writer *w, int channel, const float *frames, size_t n);
/* Complete the file (assembly if needed, fsync, rename over out_path); *frames is the
 * count per channel. BL_ERR_INTERNAL when channels got different counts. */
bl_status bl_feat_writer_finish(bl_feat_writer *w, uint64_t *frames);
/* Free the writer; an unfinished output is removed. NULL is fine. */
void bl_feat_writer_destroy(bl_feat_writer *w);

typedef struct {
    int threads;         /* >= 1: busy threads; > 1 adds a decode thread beside the front end */
    double start_s;      /* window start in the file, seconds */
    double duration_s;   /* window length, seconds; <= 0 = to the end */
    size_t block_frames; /* frames per channel per decoded block; 0 = default (262144) */
    bl_nonfinite_mode non_finite; /* input.non_finite: NaN/Inf samples fail (default) or are zeroed */
    bl_truncated_mode truncated;  /* input.truncated: a cut-off file fails (default) or is used */
} bl_features_opts;

typedef struct {
    int channels, n_mels;
    uint64_t frames;  /* per channel */
    uint64_t samples; /* per channel, at frontend.sample_rate */
} bl_features_result;

/* Compute the features of `audio_path` with `fp` and write them to `out_path`. */
bl_status bl_features_compute(const char *audio_path, const char *out_path,
                              const bl_frontend_params *fp, const bl_features_opts *opts,
                              bl_features_result *res);

#endif /* BL_FEATURES_JOB_H */
