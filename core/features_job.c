/* features_job.c — bl_feat_writer and bl_features_compute (see features_job.h).
 *
 * Owns: per writer, the output (io/outfile.h: an unnamed temporary where the filesystem
 * allows, so nothing is left behind if the process dies), an optional unlinked spill file and
 * one stage of BL_FEAT_TILE transposed frames per channel; per job, the audio stream, one
 * front-end stream per channel, a BL_FEAT_OUT-frame output buffer, and (threads > 1) a
 * decode thread with BL_FEAT_SLOTS block buffers circulating through two bounded queues.
 *
 * Why the layout: the output is channel-major, [C][n_mels][frames], while the front end
 * emits time-major frames. Frames are transposed as they come out of the front end (still
 * in cache) into the channel's stage. With the frame count known up front (WAV, FLAC...
 * without truncation: bl_audio_stream_expected_frames), each full stage is written as one
 * slice per mel row at its final offset (pwrite), so the output is written once and never
 * read back, and its writeback starts while the front end still runs. Otherwise (Ogg, MP3,
 * truncated files) stages go to a spill file and the output is assembled row by row once
 * the count is known, about twice the output size on disk meanwhile. An expectation that
 * turns out wrong (a file shorter than its header) falls back to the same assembly from
 * the laid-out rows plus the spill.
 *
 * Threading: with threads > 1, one thread decodes blocks ahead (at most BL_FEAT_SLOTS - 1
 * blocks ahead of the front end, bounded memory), the caller's thread runs the front end,
 * whose streams spread each piece's frames over `threads` workers, and one thread
 * transposes and writes the finished pieces (at most BL_FEAT_PIECES in flight). The decode
 * thread touches only the audio stream and the slot it holds, the writer thread only the
 * bl_feat_writer (until it is joined) and the piece it holds; their errors travel back in
 * the slot and in the sink. Output bytes never depend on this (each frame is a function of
 * its samples only, and the writer's offsets of the frame index; pieces reach the writer in
 * order through one FIFO).
 */
#include "features_job.h"

#include <errno.h>     /* errno of file calls */
#include <fcntl.h>     /* sync_file_range */
#include <pthread.h>   /* the decode thread */
#include <stdbool.h>   /* bool */
#include <stdio.h>     /* snprintf, rename */
#include <stdlib.h>    /* malloc */
#include <string.h>    /* strlen, memcpy, strerror */
#include <unistd.h>    /* pwrite, pread, ftruncate */

#include "io/audio.h" /* bl_audio_stream */
#include "io/npy.h"   /* bl_npy_format_header */
#include "io/outfile.h" /* the output: temporary + rename, or a device written in place */
#include "log.h"      /* the opening line */
#include "queue.h"    /* bounded queues between the decode thread and the front end */

/* Frames per channel the writer gathers, transposed, before writing: 4096 frames x 64 mels
 * is 1 MiB, and each mel row's slice is one 16 KiB write. */
#define BL_FEAT_TILE 4096
/* Frames the front end emits per call: small enough (256 KiB at 64 mels) to be transposed
 * while still in cache, large enough for its workers (it computes 512 at a time). */
#define BL_FEAT_OUT 1024
/* Decoded blocks in circulation when decoding has its own thread (triple buffering). */
#define BL_FEAT_SLOTS 3
/* Front-end outputs (BL_FEAT_OUT frames each) in circulation when writing has its own
 * thread: the front end fills one while the writer transposes and writes the others. */
#define BL_FEAT_PIECES 4
/* Bytes written to the laid-out output between two starts of its writeback. */
#define BL_FEAT_KICK_BYTES ((uint64_t)4 << 20)
/* Buffer of the final assembly (spill path only). */
#define BL_FEAT_COPY_BYTES ((size_t)1 << 20)

/* ---- writer ---------------------------------------------------------------------------- */

typedef struct {
    uint64_t off; /* byte offset in the spill file of [n_mels][len] floats */
    size_t len;
} feat_chunk;

typedef struct {
    uint64_t frames; /* written out (laid out or spilled) so far */
    float *stage;    /* [n_mels][ld]: the next BL_FEAT_TILE frames, already transposed */
    size_t staged;   /* frames in stage */
    feat_chunk *chunks;
    size_t n_chunks, cap_chunks;
} feat_wchan;

struct bl_feat_writer {
    char *out_path;
    bl_outfile *of;     /* the output being written (io/outfile.h), NULL once committed */
    int fd;             /* its descriptor, -1 when none */
    size_t hdr;         /* header bytes of the laid-out file */
    uint64_t expected;  /* frames per row laid out in `fd` (0: none) */
    int channels, n_mels;
    int spill_fd;       /* -1 until the first spilled tile */
    uint64_t spill_end;
    feat_wchan *ch;
    size_t ld;          /* row stride of the stages, floats */
    uint64_t unsynced;  /* bytes written to fd since writeback was last started */
    bool done;
};

static bl_status io_error(int err, const char *what, const char *path) {
    return bl_error_set(err == ENOSPC ? BL_ERR_NO_SPACE : BL_ERR_IO, __FILE__, __LINE__,
                        "%s %s: %s", what, path, strerror(err));
}

/* pwrite all of buf, retrying short writes and EINTR. */
static bl_status write_at(int fd, const void *buf, size_t n, uint64_t off, const char *path) {
    const char *p = buf;
    while (n > 0) {
        ssize_t k = pwrite(fd, p, n, (off_t)off);
        if (k < 0 && errno == EINTR) continue;
        if (k <= 0) return io_error(k < 0 ? errno : EIO, "writing", path);
        p += k;
        n -= (size_t)k;
        off += (uint64_t)k;
    }
    return BL_OK;
}

static bl_status read_at(int fd, void *buf, size_t n, uint64_t off, const char *what) {
    char *p = buf;
    while (n > 0) {
        ssize_t k = pread(fd, p, n, (off_t)off);
        if (k < 0 && errno == EINTR) continue;
        if (k <= 0)
            return BL_ERROR(BL_ERR_IO, "reading back %s: %s", what,
                            k < 0 ? strerror(errno) : "short read");
        p += k;
        n -= (size_t)k;
        off += (uint64_t)k;
    }
    return BL_OK;
}

void bl_feat_writer_destroy(bl_feat_writer *w) {
    if (!w) return;
    bl_outfile_discard(w->of); /* NULL once committed */
    if (w->spill_fd >= 0) close(w->spill_fd);
    for (int c = 0; w->ch && c < w->channels; c++) {
        free(w->ch[c].chunks);
        free(w->ch[c].stage);
    }
    free(w->ch);
    free(w->out_path);
    free(w);
}

/* The spill file: unnamed, so nothing is left behind if the process dies. */
static bl_status open_spill(bl_feat_writer *w) { return bl_outfile_scratch(w->of, &w->spill_fd); }

bl_status bl_feat_writer_open(const char *out_path, int channels, int n_mels,
                              int64_t expected_frames, bl_feat_writer **out) {
    BL_RETURN_IF(!out_path || !out || channels < 1 || n_mels < 1, BL_ERR_INVALID_ARG,
                 "feature writer: bad arguments (%d channels, %d mels)", channels, n_mels);
    *out = NULL;
    bl_feat_writer *w = calloc(1, sizeof *w);
    BL_CHECK_ALLOC(w);
    w->fd = w->spill_fd = -1;
    w->channels = channels;
    w->n_mels = n_mels;
    w->out_path = strdup(out_path);
    w->ch = calloc((size_t)channels, sizeof *w->ch);
    /* BL_FEAT_TILE + 16: a row stride that is no multiple of a large power of two */
    w->ld = BL_FEAT_TILE + 16;
    bool ok = w->out_path && w->ch;
    for (int c = 0; ok && c < channels; c++)
        ok = (w->ch[c].stage = malloc(w->ld * (size_t)n_mels * sizeof(float))) != NULL;
    bl_status s = ok ? BL_OK : BL_ERROR(BL_ERR_NOMEM, "out of memory for %d channels", channels);
    if (s == BL_OK) s = bl_outfile_open(out_path, BL_OUTFILE_SEEKABLE, &w->of);
    if (s == BL_OK) w->fd = bl_outfile_fd(w->of);
    uint64_t rows = (uint64_t)channels * (uint64_t)n_mels;
    if (s == BL_OK && expected_frames > 0 &&
        (uint64_t)expected_frames <= ((uint64_t)1 << 62) / 4 / rows) {
        w->expected = (uint64_t)expected_frames;
        size_t shape[3] = {(size_t)channels, (size_t)n_mels, (size_t)w->expected};
        unsigned char head[BL_NPY_HEADER_MAX];
        s = bl_npy_format_header(head, sizeof head, shape, 3, &w->hdr);
        if (s == BL_OK) s = write_at(w->fd, head, w->hdr, 0, w->out_path);
        /* The full size now: rows are then filled in any order without growing the file.
         * A size the filesystem refuses (a header claiming an absurd length on a volume
         * with a small file-size limit) is no error: the rows are spilled instead. */
        if (s == BL_OK && ftruncate(w->fd, (off_t)(w->hdr + rows * w->expected * 4)) != 0) {
            w->expected = 0;
            expected_frames = -1;
        }
    }
    /* unknown length: everything is spilled; fail now if that file cannot be made */
    if (s == BL_OK && expected_frames < 0) s = open_spill(w);
    if (s != BL_OK) {
        bl_feat_writer_destroy(w);
        return s;
    }
    *out = w;
    return BL_OK;
}

/* Append chunk (off, len) to channel c's spill list. */
static bl_status note_chunk(feat_wchan *ch, uint64_t off, size_t len) {
    if (ch->n_chunks == ch->cap_chunks) {
        size_t cap = ch->cap_chunks ? ch->cap_chunks * 2 : 16;
        feat_chunk *nc = realloc(ch->chunks, cap * sizeof *nc);
        BL_CHECK_ALLOC(nc);
        ch->chunks = nc;
        ch->cap_chunks = cap;
    }
    ch->chunks[ch->n_chunks++] = (feat_chunk){off, len};
    return BL_OK;
}

#if (defined(__GNUC__) || defined(__clang__)) && defined(__x86_64__)
#include <immintrin.h> /* SSE 4x4 transposes (SSE is always there on x86-64) */
#define BL_FEAT_SSE 1
#endif

/* src [n][nm] -> dst [nm][ld] (dst may point into a row), in blocks of 16 frames x all
 * mels: the block's source and its destination lines both stay in L1, as long as ld is no
 * multiple of a large power of two (rows would then share cache sets). */
static void transpose(const float *src, size_t n, size_t nm, float *dst, size_t ld) {
    for (size_t f0 = 0; f0 < n; f0 += 16) {
        size_t f1 = f0 + 16 < n ? f0 + 16 : n, f4 = f0 + (f1 - f0) / 4 * 4, m4 = 0;
#ifdef BL_FEAT_SSE
        m4 = nm / 4 * 4;
        for (size_t m = 0; m < m4; m += 4)
            for (size_t f = f0; f < f4; f += 4) {
                __m128 r0 = _mm_loadu_ps(src + f * nm + m);
                __m128 r1 = _mm_loadu_ps(src + (f + 1) * nm + m);
                __m128 r2 = _mm_loadu_ps(src + (f + 2) * nm + m);
                __m128 r3 = _mm_loadu_ps(src + (f + 3) * nm + m);
                _MM_TRANSPOSE4_PS(r0, r1, r2, r3);
                _mm_storeu_ps(dst + m * ld + f, r0);
                _mm_storeu_ps(dst + (m + 1) * ld + f, r1);
                _mm_storeu_ps(dst + (m + 2) * ld + f, r2);
                _mm_storeu_ps(dst + (m + 3) * ld + f, r3);
            }
        for (size_t m = 0; m < m4; m++) /* the frames past the last group of 4 */
            for (size_t f = f4; f < f1; f++) dst[m * ld + f] = src[f * nm + m];
#else
        (void)f4;
#endif
        for (size_t m = m4; m < nm; m++)
            for (size_t f = f0; f < f1; f++) dst[m * ld + f] = src[f * nm + m];
    }
}

/* Write channel c's staged frames: the part within the expected length to the rows of the
 * laid-out output, the rest to the spill file as one chunk. */
static bl_status write_stage(bl_feat_writer *w, int channel) {
    feat_wchan *ch = &w->ch[channel];
    size_t n = ch->staged, nm = (size_t)w->n_mels, ld = w->ld;
    const float *t = ch->stage;
    if (n == 0) return BL_OK;
    uint64_t f = ch->frames;
    size_t direct = f < w->expected ? (w->expected - f < n ? (size_t)(w->expected - f) : n) : 0;
    if (direct > 0) {
        uint64_t row0 = (uint64_t)channel * nm;
        for (size_t m = 0; m < nm; m++)
            BL_TRY(write_at(w->fd, t + m * ld, direct * sizeof(float),
                            w->hdr + ((row0 + m) * w->expected + f) * sizeof(float),
                            w->out_path));
        w->unsynced += (uint64_t)direct * nm * sizeof(float);
#ifdef __linux__
        /* Start writeback now and then, so the disk works while the front end runs and the
         * final fsync has little left to wait for. Only a hint: errors surface at fsync. */
        if (w->unsynced >= BL_FEAT_KICK_BYTES) {
            (void)sync_file_range(w->fd, 0, 0, SYNC_FILE_RANGE_WRITE);
            w->unsynced = 0;
        }
#endif
    }
    if (direct < n) { /* beyond the expected length: a spilled chunk [nm][n - direct] */
        size_t len = n - direct;
        if (w->spill_fd < 0) BL_TRY(open_spill(w));
        for (size_t m = 0; m < nm; m++)
            BL_TRY(write_at(w->spill_fd, t + m * ld + direct, len * sizeof(float),
                            w->spill_end + m * len * sizeof(float), "the spill file"));
        BL_TRY(note_chunk(ch, w->spill_end, len));
        w->spill_end += (uint64_t)nm * len * sizeof(float);
    }
    ch->frames += n;
    ch->staged = 0;
    return BL_OK;
}

bl_status bl_feat_writer_put(bl_feat_writer *w, int channel, const float *frames, size_t n) {
    BL_RETURN_IF(!w || channel < 0 || channel >= w->channels || (n && !frames) || w->done,
                 BL_ERR_INVALID_ARG, "feature writer: bad put (channel %d)", channel);
    feat_wchan *ch = &w->ch[channel];
    size_t nm = (size_t)w->n_mels;
    while (n > 0) {
        size_t k = BL_FEAT_TILE - ch->staged < n ? BL_FEAT_TILE - ch->staged : n;
        transpose(frames, k, nm, ch->stage + ch->staged, w->ld);
        ch->staged += k;
        frames += k * nm;
        n -= k;
        if (ch->staged == BL_FEAT_TILE) BL_TRY(write_stage(w, channel));
    }
    return BL_OK;
}

/* Buffered output of the assembly. */
typedef struct {
    int fd;
    const char *path;
    char *buf;
    size_t used;
    uint64_t off;
} feat_out;

static bl_status out_flush(feat_out *o) {
    BL_TRY(write_at(o->fd, o->buf, o->used, o->off, o->path));
    o->off += o->used;
    o->used = 0;
    return BL_OK;
}

/* Append `bytes` read from src_fd at src_off. */
static bl_status out_copy(feat_out *o, int src_fd, uint64_t src_off, uint64_t bytes,
                          const char *what) {
    while (bytes > 0) {
        size_t k = BL_FEAT_COPY_BYTES - o->used;
        if (k > bytes) k = (size_t)bytes;
        BL_TRY(read_at(src_fd, o->buf + o->used, k, src_off, what));
        o->used += k;
        src_off += k;
        bytes -= k;
        if (o->used == BL_FEAT_COPY_BYTES) BL_TRY(out_flush(o));
    }
    return BL_OK;
}

/* Build the output from the laid-out rows (their first min(F, expected) frames) and the
 * spilled chunks: into the output itself when nothing was laid out there, else into a new
 * output (a second temporary for the same path) that takes the laid-out one's place. */
static bl_status assemble(bl_feat_writer *w, uint64_t frames) {
    size_t nm = (size_t)w->n_mels;
    size_t shape[3] = {(size_t)w->channels, nm, (size_t)frames};
    feat_out o = {w->fd, w->out_path, NULL, 0, 0};
    bl_outfile *next = NULL;
    if (w->expected > 0) {
        BL_TRY(bl_outfile_open(w->out_path, BL_OUTFILE_SEEKABLE, &next));
        o.fd = bl_outfile_fd(next);
    } else if (ftruncate(w->fd, 0) != 0) {
        return io_error(errno, "truncating", w->out_path);
    }
    o.buf = malloc(BL_FEAT_COPY_BYTES);
    size_t hlen = 0;
    bl_status s = o.buf ? bl_npy_format_header((unsigned char *)o.buf, BL_FEAT_COPY_BYTES,
                                               shape, 3, &hlen)
                        : BL_ERROR(BL_ERR_NOMEM, "out of memory");
    o.used = hlen;
    uint64_t laid = frames < w->expected ? frames : w->expected;
    for (int c = 0; s == BL_OK && c < w->channels; c++) {
        const feat_wchan *ch = &w->ch[c];
        for (size_t m = 0; s == BL_OK && m < nm; m++) {
            if (laid > 0)
                s = out_copy(&o, w->fd, w->hdr + (((uint64_t)c * nm + m) * w->expected) * 4,
                             laid * 4, "the laid-out output");
            for (size_t k = 0; s == BL_OK && k < ch->n_chunks; k++)
                s = out_copy(&o, w->spill_fd, ch->chunks[k].off + m * ch->chunks[k].len * 4,
                             ch->chunks[k].len * 4, "the spill file");
        }
    }
    if (s == BL_OK) s = out_flush(&o);
    free(o.buf);
    if (next && s != BL_OK) bl_outfile_discard(next);
    else if (next) { /* the new output takes the laid-out one's place */
        bl_outfile_discard(w->of);
        w->of = next;
        w->fd = o.fd;
    }
    return s;
}

bl_status bl_feat_writer_finish(bl_feat_writer *w, uint64_t *frames) {
    BL_RETURN_IF(!w || w->done, BL_ERR_INVALID_ARG, "feature writer: finish twice");
    for (int c = 0; c < w->channels; c++) BL_TRY(write_stage(w, c));
    uint64_t F = w->ch[0].frames;
    for (int c = 1; c < w->channels; c++)
        BL_RETURN_IF(w->ch[c].frames != F, BL_ERR_INTERNAL,
                     "feature writer: channel %d has %llu frames, channel 0 %llu", c,
                     (unsigned long long)w->ch[c].frames, (unsigned long long)F);
    /* laid out in place only when the expectation held and nothing was spilled */
    if (w->expected == 0 || F != w->expected || w->spill_fd >= 0) BL_TRY(assemble(w, F));
    bl_outfile *of = w->of;
    w->of = NULL; /* committed or discarded by the commit */
    w->fd = -1;
    BL_TRY(bl_outfile_commit(of));
    w->done = true;
    if (frames) *frames = F;
    return BL_OK;
}

/* ---- the job ----------------------------------------------------------------------------- */

typedef struct {
    float *planar;   /* channels x block, channel c at c * block */
    size_t n;        /* frames in it; 0 = end of the audio */
    bl_status status;
    char msg[512];   /* the decode thread's error message */
} feat_slot;

typedef struct {
    bl_fe_stream *st;
    uint64_t total;  /* frames emitted */
} feat_chan;

typedef struct {
    bl_audio_stream *as;
    size_t block;
    feat_slot slots[BL_FEAT_SLOTS];
    int n_slots;
    bl_queue *free_q, *full_q; /* slots to fill, slots filled */
    pthread_t thread;
    bool running;
} feat_decoder;

static void decode_into(feat_decoder *d, feat_slot *sl) {
    sl->status = bl_audio_stream_read(d->as, sl->planar, d->block, d->block, &sl->n);
    if (sl->status != BL_OK) {
        snprintf(sl->msg, sizeof sl->msg, "%s", bl_error_message());
        sl->n = 0;
    }
}

static void *decode_main(void *arg) {
    feat_decoder *d = arg;
    void *item;
    while (bl_queue_pop(d->free_q, &item)) {
        feat_slot *sl = item;
        decode_into(d, sl);
        bool last = sl->status != BL_OK || sl->n == 0;
        if (!bl_queue_push(d->full_q, sl) || last) break;
    }
    return NULL;
}

/* Front-end outputs on their way to bl_feat_writer_put. Serial (threads == 1): one buffer,
 * written by the caller right away. Threaded: BL_FEAT_PIECES buffers circulate through two
 * bounded queues to a writer thread, so that the transposition and the write calls overlap
 * the front end instead of idling its workers. The writer thread's first error stops it:
 * it closes both queues (the caller's next wait fails) and leaves the error in `status` and
 * `msg`, read only after the join. */
typedef struct {
    float *buf; /* BL_FEAT_OUT frames x n_mels */
    int channel;
    size_t n;
} feat_piece;

typedef struct {
    bl_feat_writer *w;
    feat_piece pieces[BL_FEAT_PIECES];
    int n_pieces;
    feat_piece *cur; /* the piece the front end fills next */
    bl_queue *free_q, *full_q;
    pthread_t thread;
    bool running;
    bl_status status; /* the writer thread's error */
    char msg[512];
} feat_sink;

static void *write_main(void *arg) {
    feat_sink *k = arg;
    void *item;
    while (bl_queue_pop(k->full_q, &item)) {
        feat_piece *pc = item;
        bl_status s = bl_feat_writer_put(k->w, pc->channel, pc->buf, pc->n);
        if (s != BL_OK) {
            k->status = s;
            snprintf(k->msg, sizeof k->msg, "%s", bl_error_message());
            bl_queue_close(k->free_q);
            bl_queue_close(k->full_q);
            break;
        }
        if (!bl_queue_push(k->free_q, pc)) break;
    }
    return NULL;
}

/* The buffer for the next piece of frames (waits for the writer when all are in flight). */
static bl_status sink_acquire(feat_sink *k, float **buf) {
    if (!k->running) {
        k->cur = &k->pieces[0];
    } else {
        void *item = NULL;
        if (!bl_queue_pop(k->free_q, &item))
            return BL_ERROR(BL_ERR_INTERNAL, "features: the writer thread stopped early");
        k->cur = item;
    }
    *buf = k->cur->buf;
    return BL_OK;
}

/* Hand the acquired buffer's first n frames of channel c to the writer. */
static bl_status sink_submit(feat_sink *k, int c, size_t n) {
    feat_piece *pc = k->cur;
    k->cur = NULL;
    if (!k->running) return bl_feat_writer_put(k->w, c, pc->buf, n);
    pc->channel = c;
    pc->n = n;
    if (!bl_queue_push(k->full_q, pc))
        return BL_ERROR(BL_ERR_INTERNAL, "features: the writer thread stopped early");
    return BL_OK;
}

/* Wait for the writer thread to write everything submitted; its error, if it had one (else
 * `s`). Idempotent; safe when it never started. */
static bl_status sink_drain(feat_sink *k, bl_status s) {
    if (!k->running) return s;
    bl_queue_close(k->full_q);
    pthread_join(k->thread, NULL);
    k->running = false;
    if (k->status != BL_OK) return bl_error_set(k->status, __FILE__, __LINE__, "%s", k->msg);
    return s;
}

/* Push n samples of one channel through its stream, in pieces whose frames fit a sink
 * buffer (BL_FEAT_OUT frames, small enough to be transposed while still in cache). */
static bl_status feed(feat_sink *k, feat_chan *ch, int c, const float *x, size_t n) {
    size_t off = 0;
    while (off < n) {
        size_t piece = n - off, got = 0;
        while (piece > 1 && bl_fe_stream_max_frames(ch->st, piece) > BL_FEAT_OUT) piece /= 2;
        float *out = NULL;
        BL_TRY(sink_acquire(k, &out));
        BL_TRY(bl_fe_stream_push(ch->st, x + off, piece, out, BL_FEAT_OUT, &got));
        BL_TRY(sink_submit(k, c, got));
        ch->total += got;
        off += piece;
    }
    return BL_OK;
}

/* End of input for one channel: the frames of the right padding (in rounds when they do
 * not fit a buffer at once). */
static bl_status finish_channel(feat_sink *k, feat_chan *ch, int c) {
    for (;;) {
        size_t got = 0;
        float *out = NULL;
        BL_TRY(sink_acquire(k, &out));
        BL_TRY(bl_fe_stream_finish(ch->st, out, BL_FEAT_OUT, &got));
        BL_TRY(sink_submit(k, c, got));
        ch->total += got;
        if (got < BL_FEAT_OUT || bl_fe_stream_max_frames(ch->st, 0) == 0) return BL_OK;
    }
}

/* input.truncated and input.non_finite, as `baleen run` applies them to an item: fail (no
 * output) or go on with a warning. */
static bl_status judge_input(const char *path, const bl_audio_reader *r, int n_ch, const bl_features_opts *o) {
    const char *trunc = bl_audio_truncation(r);
    if (trunc && o->truncated == BL_TRUNCATED_FAIL)
        return BL_ERROR(BL_ERR_DECODE, "%s: %s; no output written (--set input.truncated=keep uses the audio that "
                        "is there)", path, trunc);
    if (trunc) BL_LOG_W("features: %s: %s; the audio that is there was used", path, trunc);
    for (int c = 0; c < n_ch; c++) {
        const bl_audio_nonfinite *nf = bl_audio_get_nonfinite(r, c);
        if (nf->count == 0) continue;
        double at = (double)nf->pos[0] / bl_audio_get_info(r)->sample_rate;
        if (o->non_finite == BL_NONFINITE_FAIL)
            return BL_ERROR(BL_ERR_DECODE, "%s: %lld NaN/Inf sample(s) in channel %d, the first at %.6f s; no output "
                            "written (--set input.non_finite=zero replaces them by 0)", path, (long long)nf->count, c,
                            at);
        BL_LOG_W("features: %s: %lld NaN/Inf sample(s) in channel %d replaced by 0, the first at %.6f s", path,
                 (long long)nf->count, c, at);
    }
    return BL_OK;
}

bl_status bl_features_compute(const char *audio_path, const char *out_path,
                              const bl_frontend_params *fp, const bl_features_opts *opts,
                              bl_features_result *res) {
    BL_RETURN_IF(!audio_path || !out_path || !fp || !opts || !res || opts->threads < 1,
                 BL_ERR_INVALID_ARG, "features: bad arguments");
    memset(res, 0, sizeof *res);
    bl_frontend *fe = NULL;
    bl_feat_writer *w = NULL;
    feat_chan *chs = NULL;
    feat_sink k; /* the front end's output on its way to the writer */
    memset(&k, 0, sizeof k);
    feat_decoder d;
    memset(&d, 0, sizeof d);
    int n_ch = 0, nm = fp->mel.n_mels;
    uint64_t samples = 0;
    bool threaded = opts->threads > 1;
    d.block = opts->block_frames ? opts->block_frames : 262144;

    bl_status s = bl_frontend_create(fp, &fe);
    if (s == BL_OK) {
        bl_audio_stream_opts o = {fp->sample_rate, opts->start_s, opts->duration_s, d.block};
        s = bl_audio_stream_open(audio_path, &o, &d.as);
    }
    if (s == BL_OK) {
        n_ch = bl_audio_stream_channels(d.as);
        int64_t e = bl_audio_stream_expected_frames(d.as);
        int64_t frames = e < 0 ? -1 : (int64_t)bl_frontend_frame_count(fe, (size_t)e);
        s = bl_feat_writer_open(out_path, n_ch, nm, frames, &w);
    }
    if (s == BL_OK) {
        chs = calloc((size_t)n_ch, sizeof *chs);
        if (!chs) s = BL_ERROR(BL_ERR_NOMEM, "out of memory for %d channels", n_ch);
    }
    k.w = w;
    k.n_pieces = threaded ? BL_FEAT_PIECES : 1;
    for (int i = 0; s == BL_OK && i < k.n_pieces; i++)
        if (!(k.pieces[i].buf = malloc(sizeof(float) * BL_FEAT_OUT * (size_t)nm)))
            s = BL_ERROR(BL_ERR_NOMEM, "out of memory for %d mels", nm);
    for (int c = 0; s == BL_OK && c < n_ch; c++)
        s = bl_fe_stream_create(fe, opts->threads, &chs[c].st);
    d.n_slots = threaded ? BL_FEAT_SLOTS : 1;
    if (s == BL_OK && d.block > SIZE_MAX / sizeof(float) / (size_t)n_ch)
        s = BL_ERROR(BL_ERR_INVALID_ARG, "features: block of %zu frames is too large", d.block);
    for (int i = 0; s == BL_OK && i < d.n_slots; i++) {
        d.slots[i].planar = malloc(d.block * (size_t)n_ch * sizeof(float));
        if (!d.slots[i].planar) s = BL_ERROR(BL_ERR_NOMEM, "out of memory for audio blocks");
    }
    if (s == BL_OK) {
        const bl_audio_info *info = bl_audio_stream_info(d.as);
        BL_LOG_I("features: %s: %s, %d Hz, %d channel%s -> %d Hz, %d mels, %d thread%s",
                 audio_path, info->format, info->sample_rate, n_ch, n_ch > 1 ? "s" : "",
                 fp->sample_rate, nm, opts->threads, opts->threads > 1 ? "s" : "");
    }
    if (s == BL_OK && threaded) {
        s = bl_queue_create(BL_FEAT_SLOTS, &d.free_q);
        if (s == BL_OK) s = bl_queue_create(BL_FEAT_SLOTS, &d.full_q);
        for (int i = 0; s == BL_OK && i < d.n_slots; i++) bl_queue_push(d.free_q, &d.slots[i]);
        if (s == BL_OK) {
            int e = pthread_create(&d.thread, NULL, decode_main, &d);
            if (e != 0) s = BL_ERROR(BL_ERR_THREAD, "features: cannot start the decode thread: %s",
                                     strerror(e));
            else d.running = true;
        }
        if (s == BL_OK) s = bl_queue_create(BL_FEAT_PIECES, &k.free_q);
        if (s == BL_OK) s = bl_queue_create(BL_FEAT_PIECES, &k.full_q);
        for (int i = 0; s == BL_OK && i < k.n_pieces; i++) bl_queue_push(k.free_q, &k.pieces[i]);
        if (s == BL_OK) {
            int e = pthread_create(&k.thread, NULL, write_main, &k);
            if (e != 0) s = BL_ERROR(BL_ERR_THREAD, "features: cannot start the writer thread: %s",
                                     strerror(e));
            else k.running = true;
        }
    }
    while (s == BL_OK) {
        feat_slot *sl = &d.slots[0];
        if (threaded) {
            void *item = NULL;
            if (!bl_queue_pop(d.full_q, &item)) {
                s = BL_ERROR(BL_ERR_INTERNAL, "features: the decode thread stopped early");
                break;
            }
            sl = item;
        } else {
            decode_into(&d, sl);
        }
        if (sl->status != BL_OK) {
            s = bl_error_set(sl->status, __FILE__, __LINE__, "%s", sl->msg);
            break;
        }
        if (sl->n == 0) break;
        samples += sl->n;
        for (int c = 0; s == BL_OK && c < n_ch; c++)
            s = feed(&k, &chs[c], c, sl->planar + (size_t)c * d.block, sl->n);
        if (threaded && s == BL_OK) bl_queue_push(d.free_q, sl);
    }
    if (d.running) { /* on every path: a closed queue ends the decode thread's wait */
        bl_queue_close(d.free_q);
        pthread_join(d.thread, NULL);
    }
    for (int c = 0; s == BL_OK && c < n_ch; c++) s = finish_channel(&k, &chs[c], c);
    s = sink_drain(&k, s); /* on every path: the writer is done with w and the pieces */
    uint64_t frames = 0;
    if (s == BL_OK) {
        size_t want = bl_frontend_frame_count(fe, (size_t)samples);
        for (int c = 0; s == BL_OK && c < n_ch; c++)
            if (chs[c].total != want)
                s = BL_ERROR(BL_ERR_INTERNAL, "channel %d: %llu frames for %llu samples, "
                             "expected %zu", c, (unsigned long long)chs[c].total,
                             (unsigned long long)samples, want);
    }
    if (s == BL_OK) s = judge_input(audio_path, bl_audio_stream_reader(d.as), n_ch, opts);
    if (s == BL_OK) s = bl_feat_writer_finish(w, &frames);
    if (s == BL_OK) {
        res->channels = n_ch;
        res->n_mels = nm;
        res->frames = frames;
        res->samples = samples;
    }
    for (int c = 0; chs && c < n_ch; c++) bl_fe_stream_destroy(chs[c].st);
    free(chs);
    for (int i = 0; i < k.n_pieces; i++) free(k.pieces[i].buf);
    bl_queue_destroy(k.free_q);
    bl_queue_destroy(k.full_q);
    for (int i = 0; i < d.n_slots; i++) free(d.slots[i].planar);
    bl_queue_destroy(d.free_q);
    bl_queue_destroy(d.full_q);
    bl_feat_writer_destroy(w);
    bl_audio_stream_close(d.as);
    bl_frontend_destroy(fe);
    return s;
}
