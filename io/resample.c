/* resample.c — the streaming resampler of audio.h (bl_resampler), a thin wrapper over
 * libsoxr at SOXR_HQ quality with interleaved float32 in and out.
 *
 * Owns: one soxr_t per resampler (its filter state carries across calls).
 *
 * Why soxr's own FIFO is used (soxr_process with idone = NULL): every input frame is taken
 * on every call and any output that does not fit stays queued inside soxr. The samples
 * soxr produces then depend only on the input sequence, not on how it is split into calls
 * (checked bit for bit by tests/unit/test_resample.c), which the stream's block-size
 * invariance relies on. soxr also removes its filter delay: output frame k is aligned with
 * input time k / out_rate.
 *
 * Threading: one thread per resampler; soxr runs single-threaded (num_threads = 1), since
 * parallelism comes from files in flight, not from inside one resampler.
 */
#include "audio.h"

#include <math.h>  /* ceil */
#include <soxr.h>  /* the resampler */
#include <stdlib.h>

struct bl_resampler {
    soxr_t soxr;
    double ratio;  /* out_rate / in_rate */
    int channels;
    int flushed;   /* a call with last = 1 was made */
};

bl_status bl_resampler_create(double in_rate, double out_rate, int channels, bl_resampler **out) {
    if (out) *out = NULL;
    BL_RETURN_IF(!out, BL_ERR_INVALID_ARG, "bl_resampler_create: NULL output");
    BL_RETURN_IF(!(in_rate > 0) || !(out_rate > 0) || !isfinite(in_rate) ||
                     !isfinite(out_rate) || channels < 1 || channels > 4096,
                 BL_ERR_INVALID_ARG, "resampler: invalid rates %g -> %g Hz or %d channels",
                 in_rate, out_rate, channels);
    /* soxr's memory grows with the upsampling factor times the channel count (a 1 Hz,
     * 257-channel header upsampled to 16 kHz takes 360 MB): refuse factors no recording
     * needs, so a hostile header cannot make a tiny file expensive. */
    BL_RETURN_IF(out_rate > BL_RESAMPLE_MAX_UP * in_rate, BL_ERR_RESAMPLE,
                 "resampler: upsampling %g Hz to %g Hz (x%.0f) is beyond the supported x%d; "
                 "is the file's sample rate right?", in_rate, out_rate, out_rate / in_rate,
                 BL_RESAMPLE_MAX_UP);
    bl_resampler *rs = calloc(1, sizeof *rs);
    BL_CHECK_ALLOC(rs);
    soxr_error_t err = NULL;
    soxr_io_spec_t io = soxr_io_spec(SOXR_FLOAT32_I, SOXR_FLOAT32_I);
    soxr_quality_spec_t q = soxr_quality_spec(SOXR_HQ, 0);
    soxr_runtime_spec_t rt = soxr_runtime_spec(1);
    rs->soxr = soxr_create(in_rate, out_rate, (unsigned)channels, &err, &io, &q, &rt);
    if (!rs->soxr || err) {
        if (rs->soxr) soxr_delete(rs->soxr);
        free(rs);
        return BL_ERROR(BL_ERR_RESAMPLE, "resampler: soxr cannot resample %g -> %g Hz, %d "
                        "channels: %s", in_rate, out_rate, channels, err ? err : "unknown error");
    }
    rs->ratio = out_rate / in_rate;
    rs->channels = channels;
    *out = rs;
    return BL_OK;
}

void bl_resampler_destroy(bl_resampler *rs) {
    if (!rs) return;
    soxr_delete(rs->soxr);
    free(rs);
}

size_t bl_resampler_max_out(const bl_resampler *rs, size_t in_frames) {
    /* soxr_delay: output still owed for input already given (queued output included), so
     * the bound holds for the next call, flushes included. */
    double d = soxr_delay(rs->soxr);
    if (!(d >= 0)) d = 0;
    return (size_t)ceil((double)in_frames * rs->ratio + d) + 2;
}

bl_status bl_resampler_process(bl_resampler *rs, const float *in, size_t in_frames, int last,
                               float *out, size_t out_cap, size_t *out_frames) {
    *out_frames = 0;
    BL_RETURN_IF(in_frames > 0 && !in, BL_ERR_INVALID_ARG, "resampler: NULL input");
    BL_RETURN_IF(in_frames > 0 && rs->flushed, BL_ERR_INVALID_ARG,
                 "resampler: input after the final flush");
    BL_RETURN_IF(out_cap > 0 && !out, BL_ERR_INVALID_ARG, "resampler: NULL output");
    soxr_error_t err;
    size_t done = 0;
    if (in_frames > 0) {
        err = soxr_process(rs->soxr, in, in_frames, NULL, out, out_cap, &done);
        if (!err && last) {
            /* take the input first, then flush into what space is left */
            size_t more = 0;
            err = soxr_process(rs->soxr, NULL, 0, NULL, out ? out + done * (size_t)rs->channels
                                                             : NULL,
                               out_cap - done, &more);
            done += more;
        }
    } else if (last) {
        err = soxr_process(rs->soxr, NULL, 0, NULL, out, out_cap, &done);
    } else {
        /* drain queued output without flushing: soxr reads a NULL input as "end" */
        static const float none[1] = {0};
        err = soxr_process(rs->soxr, none, 0, NULL, out, out_cap, &done);
    }
    if (last) rs->flushed = 1;
    BL_RETURN_IF(err != NULL, BL_ERR_RESAMPLE, "resampler: soxr failed: %s", err);
    *out_frames = done;
    return BL_OK;
}
