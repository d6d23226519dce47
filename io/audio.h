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
    int64_t frames;        /* sample frames per channel; -1 when unknown (an Ogg stream cut
                              before its last page); for MP3 an estimate from the header */
    char format[64];       /* e.g. "WAV PCM_24", "FLAC PCM_16", "OGG VORBIS" */
} bl_audio_info;

typedef struct bl_audio_reader bl_audio_reader;

/* Open `path` for reading. Fails with BL_ERR_NOT_FOUND / BL_ERR_IO (cannot open, not a
 * regular file), BL_ERR_DECODE (not audio, corrupt header, zero channels, zero frames).
 * Accepted containers: WAV/WAVEX/RF64/W64, AIFF, CAF, FLAC, OGG (Vorbis, Opus), MPEG audio
 * (MP3, as far as the installed libsndfile decodes it); anything else is "not a recognised
 * audio file", so libsndfile's rarely used parsers never see outside data. */
bl_status bl_audio_open(const char *path, bl_audio_reader **out);

/* Open an audio file held in memory. `data` is borrowed, not copied: it must stay valid
 * until bl_audio_close(). `name` (may be NULL) is what error messages call the file. */
bl_status bl_audio_open_memory(const void *data, size_t size, const char *name,
                               bl_audio_reader **out);

/* A random-access byte source, for decoding data that is neither a local file nor in
 * memory (HTTP byte ranges, object stores). libsndfile reads it through its virtual I/O. */
typedef struct {
    int64_t size;   /* total bytes, known before opening (e.g. from Content-Length) */
    /* Copy `n` bytes at byte offset `off` into `buf` (the reader keeps off + n <= size);
     * *got < n only when the data ends early. Returns BL_OK, or an error status after bl_error_set() (the reader then
     * fails with that status and message). Called only from the thread using the reader. */
    bl_status (*read_at)(void *user, int64_t off, void *buf, size_t n, size_t *got);
    void (*close)(void *user);  /* optional: called once by bl_audio_close() or a failed open */
    void *user;
} bl_audio_source;
/* Open an audio file from a byte source. On success the reader owns the source (its close
 * is called by bl_audio_close()); on failure the source's close has already been called. */
bl_status bl_audio_open_source(const bl_audio_source *src, const char *name,
                               bl_audio_reader **out);
void bl_audio_close(bl_audio_reader *r);
const bl_audio_info *bl_audio_get_info(const bl_audio_reader *r);
const char *bl_audio_path(const bl_audio_reader *r);
/* Seek to sample frame `frame` (per channel), 0 <= frame <= frames (seeking to the end
 * is allowed and reads nothing). Past the end: BL_ERR_RANGE. Sample-exact: reading after
 * a seek gives the same samples as reading through from the start. For WAV/AIFF/FLAC this
 * is libsndfile's seek; Ogg and MP3 (whose libsndfile seek is approximate) decode from the
 * current position, or from the start when seeking backwards, so seeking costs O(frame). */
bl_status bl_audio_seek(bl_audio_reader *r, int64_t frame);
/* Read up to `max_frames` interleaved frames as float in [-1, 1]. *got = 0 at the end.
 * A file that ends before its header says (truncated) reads to where data stops, then
 * reports BL_OK with *got = 0 and bl_audio_truncation() says why; a read error mid-file is
 * BL_ERR_DECODE. NaN and Inf samples (float and double files) come out as 0 and are counted
 * (bl_audio_get_nonfinite): whether that is acceptable is the caller's decision. */
bl_status bl_audio_read(bl_audio_reader *r, float *interleaved, size_t max_frames, size_t *got);

#define BL_AUDIO_NONFINITE_POS 10
/* Non-finite samples of one channel read so far: how many, and the frames of the first
 * BL_AUDIO_NONFINITE_POS of them (frame numbers from the start of the file). */
typedef struct {
    int64_t count;
    int n_pos;
    int64_t pos[BL_AUDIO_NONFINITE_POS];
} bl_audio_nonfinite;
/* Never NULL (a zero count for channels without any, or out of range). */
const bl_audio_nonfinite *bl_audio_get_nonfinite(const bl_audio_reader *r, int channel);
/* Once the end was reached: NULL for a complete file, else the reason the data ended before
 * its header said ("truncated: the audio stops at frame ..."). */
const char *bl_audio_truncation(const bl_audio_reader *r);

/* Little-endian signed PCM of `width` bytes (2, 3 or 4) to float, with libsndfile's
 * arithmetic (bit-identical to sf_readf_float of such a file). `src` is either a separate
 * buffer or the in-place layout the reader uses: the n * width bytes placed at the end of
 * dst's n floats, (char *)dst + n * (4 - width). Other widths do nothing. */
void bl_audio_pcm_to_float(float *dst, const void *src, size_t n, int width);

typedef struct bl_resampler bl_resampler;
/* Largest upsampling factor out_rate / in_rate accepted (downsampling is not limited). */
#define BL_RESAMPLE_MAX_UP 256
/* High-quality (SOXR_HQ) streaming resampler for `channels` interleaved channels.
 * Output is aligned with the input (soxr removes its filter delay), its length is
 * round(in_frames * out_rate / in_rate) once flushed, and it does not depend on how the
 * input is split into calls: the same samples, bit for bit, for any chunking.
 * BL_ERR_INVALID_ARG for rates <= 0 or channels < 1; BL_ERR_RESAMPLE when upsampling by more
 * than BL_RESAMPLE_MAX_UP (an implausible file rate) or when soxr refuses. */
bl_status bl_resampler_create(double in_rate, double out_rate, int channels, bl_resampler **out);
void bl_resampler_destroy(bl_resampler *rs);
/* Upper bound on output frames for `in_frames` input frames (for sizing buffers). */
size_t bl_resampler_max_out(const bl_resampler *rs, size_t in_frames);
/* Push in_frames (may be 0 with in == NULL to flush at the end: `last` = 1).
 * Writes at most out_cap frames; *out_frames tells how many. All input is always taken:
 * output that did not fit in out_cap stays queued and comes out on the next calls (call
 * again with in_frames = 0 to drain; with `last` = 1, until *out_frames = 0). Sizing
 * out_cap with bl_resampler_max_out(in_frames) avoids the queueing. No input may follow
 * a call with `last` = 1 (BL_ERR_INVALID_ARG). */
bl_status bl_resampler_process(bl_resampler *rs, const float *in, size_t in_frames, int last,
                               float *out, size_t out_cap, size_t *out_frames);

typedef struct bl_audio_stream bl_audio_stream;
typedef struct {
    int target_rate;       /* resample to this rate; 0 = keep the file's rate */
    double start_s;        /* start of the window, seconds from the file's start (>= 0) */
    double duration_s;     /* window length in seconds; <= 0 = to the end */
    size_t block_frames;   /* frames per channel per block at the target rate (0 = 65536) */
} bl_audio_stream_opts;

/* Open a stream. Memory is O(block_frames * channels) whatever the file length.
 * `opts` may be NULL (defaults). The window starts at input frame floor(start_s * file
 * rate) and holds round(duration_s * output rate) output frames (fewer when the file ends
 * first); a start past the end of the file is BL_ERR_RANGE. Every block but the last has
 * exactly block_frames frames, and the concatenated output does not depend on
 * block_frames (bit for bit, with or without resampling). */
bl_status bl_audio_stream_open(const char *path, const bl_audio_stream_opts *opts,
                               bl_audio_stream **out);
/* The same over an already open reader (memory, byte source), which the stream takes
 * over: it is closed by bl_audio_stream_close(), or before returning when opening fails. */
bl_status bl_audio_stream_open_reader(bl_audio_reader *r, const bl_audio_stream_opts *opts,
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
/* The stream's reader, for bl_audio_get_nonfinite / bl_audio_truncation (still owned by the
 * stream). */
const bl_audio_reader *bl_audio_stream_reader(const bl_audio_stream *s);
/* The same samples decoded into the caller's buffer (for readers that keep several blocks
 * in flight): up to max_frames frames per channel, channel c at planar + c * stride
 * (stride >= max_frames when there are several channels). *n < max_frames only at the end
 * of the window; *n = 0 after it. May be mixed with bl_audio_stream_next: both continue the
 * same sequence, which does not depend on the sizes asked for. */
bl_status bl_audio_stream_read(bl_audio_stream *s, float *planar, size_t stride,
                               size_t max_frames, size_t *n);
/* The number of frames the whole stream yields when the file is intact, known up front
 * for WAV/AIFF/FLAC-like files whose header gives the length (resampled lengths follow
 * soxr's round(in * out_rate / in_rate)); -1 when the length is only known at the end (Ogg,
 * MP3, files the header shows truncated). A hint for laying out outputs: a file whose data
 * ends early yields fewer frames, never more. */
int64_t bl_audio_stream_expected_frames(const bl_audio_stream *s);

#endif /* BL_AUDIO_H */
