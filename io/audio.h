/* audio.h — decoding (libsndfile) and resampling (soxr) of audio files, streamed in
 * blocks with bounded memory: a file is never loaded whole.
 *
 * Defines:
 *   bl_audio_reader  — an open audio file: format info, seek, read interleaved float.
 *   bl_resampler     — streaming soxr resampler for interleaved float, state carried.
 *   bl_audio_stream  — reader + optional resampler + channel split: yields planar float
 *                      blocks at the target rate, from an optional start/duration window.
 *
 * Errors name the file and the reason (corrupt, truncated, empty, not audio) through
 * bl_error_message(); no call crashes on bad input.
 *
 * Threading: each object is used by one thread at a time; distinct objects are independent.
 */
#ifndef BL_AUDIO_H
#define BL_AUDIO_H

#include <stdint.h>
#include <stddef.h>

#include "../core/error.h"

typedef struct {
    int sample_rate;       /* Hz */
    int channels;          /* >= 1 */
    int64_t frames;        /* sample frames per channel; -1 when unknown */
    char format[64];       /* e.g. "WAV PCM_24", "FLAC PCM_16", "OGG VORBIS" */
} bl_audio_info;

typedef struct bl_audio_reader bl_audio_reader;

/* Open `path` for reading. Fails with BL_ERR_NOT_FOUND / BL_ERR_IO (cannot open),
 * BL_ERR_DECODE (not audio, corrupt header, zero channels, zero frames). */
bl_status bl_audio_open(const char *path, bl_audio_reader **out);
void bl_audio_close(bl_audio_reader *r);
const bl_audio_info *bl_audio_get_info(const bl_audio_reader *r);
const char *bl_audio_path(const bl_audio_reader *r);
/* Seek to sample frame `frame` (per channel). */
bl_status bl_audio_seek(bl_audio_reader *r, int64_t frame);
/* Read up to `max_frames` interleaved frames as float in [-1, 1]. *got = 0 at the end.
 * A file that ends before its header says (truncated) reads to where data stops, then
 * reports BL_OK with *got = 0 and logs a warning; a read error mid-file is BL_ERR_DECODE. */
bl_status bl_audio_read(bl_audio_reader *r, float *interleaved, size_t max_frames, size_t *got);

typedef struct bl_resampler bl_resampler;
/* High-quality (SOXR_HQ) streaming resampler for `channels` interleaved channels. */
bl_status bl_resampler_create(double in_rate, double out_rate, int channels, bl_resampler **out);
void bl_resampler_destroy(bl_resampler *rs);
/* Upper bound on output frames for `in_frames` input frames (for sizing buffers). */
size_t bl_resampler_max_out(const bl_resampler *rs, size_t in_frames);
/* Push in_frames (may be 0 with in == NULL to flush at the end: `last` = 1).
 * Writes at most out_cap frames; *out_frames tells how many. */
bl_status bl_resampler_process(bl_resampler *rs, const float *in, size_t in_frames, int last,
                               float *out, size_t out_cap, size_t *out_frames);

typedef struct bl_audio_stream bl_audio_stream;
typedef struct {
    int target_rate;       /* resample to this rate; 0 = keep the file's rate */
    double start_s;        /* start of the window, seconds from the file's start (>= 0) */
    double duration_s;     /* window length in seconds; <= 0 = to the end */
    size_t block_frames;   /* frames per channel per block at the target rate (0 = 65536) */
} bl_audio_stream_opts;

/* Open a stream. Memory is O(block_frames * channels) whatever the file length. */
bl_status bl_audio_stream_open(const char *path, const bl_audio_stream_opts *opts,
                               bl_audio_stream **out);
void bl_audio_stream_close(bl_audio_stream *s);
const bl_audio_info *bl_audio_stream_info(const bl_audio_stream *s); /* of the file */
int bl_audio_stream_rate(const bl_audio_stream *s);                  /* output rate */
int bl_audio_stream_channels(const bl_audio_stream *s);
/* Next block: *planar points at channels consecutive arrays of *n frames each
 * (channel c at (*planar) + c * stride, stride = bl_audio_stream_stride(s)).
 * Owned by the stream, valid until the next call. *n = 0 at the end. */
bl_status bl_audio_stream_next(bl_audio_stream *s, const float **planar, size_t *n);
size_t bl_audio_stream_stride(const bl_audio_stream *s);

#endif /* BL_AUDIO_H */
