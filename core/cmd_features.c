/* cmd_features.c — `baleen features AUDIO -o OUT.npy`: the front end's features of one
 * audio file as float32 .npy [channels, n_mels, frames].
 *
 * Data flow: bl_audio_stream (decode, resample to frontend.sample_rate, split channels) →
 * one bl_fe_stream per channel (frames of a block spread over --threads workers; channels
 * one after the other within a block) → per-channel spill files → OUT.npy.
 *
 * Memory is bounded whatever the file length: the frame count is only known at the end
 * (resampling, truncated files), and the output is channel-major, so each channel's frames
 * are gathered in memory in chunks of BL_FEAT_CHUNK frames, written transposed
 * ([n_mels][chunk]) to an unlinked spill file next to the output, and the final file is
 * assembled row by row once the count is known. Disk use is about twice the output size
 * while running. The output appears atomically (temporary name, fsync, rename).
 *
 * Threading: the command's own thread drives everything; the workers belong to the streams.
 */
#include <errno.h>   /* errno for file errors */
#include <stdbool.h> /* bool */
#include <stdint.h> /* uint64_t counts */
#include <stdio.h>
#include <stdlib.h>   /* strtod, strtol, malloc */
#include <string.h>   /* strcmp, strerror */
#include <sys/stat.h> /* fchmod */
#include <time.h>     /* clock_gettime for the throughput line */
#include <unistd.h>   /* sysconf, unlink, fsync, pread */

#include "commands.h"   /* bl_cli_error */
#include "config.h"     /* bl_config_* */
#include "frontend.h"   /* bl_frontend, bl_fe_stream */
#include "io/audio.h"   /* bl_audio_stream */
#include "io/npy.h"     /* bl_npy_write_header */
#include "log.h"        /* progress and summary lines */

/* Frames per channel held in memory before they are spilled, transposed, to disk. */
#define BL_FEAT_CHUNK 8192

static void print_help(FILE *f) {
    fprintf(f,
            "usage: baleen features AUDIO -o OUT.npy [--config FILE.yaml] [--set key=value]...\n"
            "                       [--start SECONDS] [--duration SECONDS] [--threads N]\n\n"
            "Compute the spectrogram front end (frontend: section of the config; defaults when\n"
            "no --config) of one audio file and write float32 .npy [channels, n_mels, frames].\n"
            "The audio is decoded with libsndfile and resampled with soxr to\n"
            "frontend.sample_rate. Semantics: torch.stft + torchaudio melscale_fbanks, then\n"
            "log, db, pcen or none (docs/config.md).\n\n"
            "options:\n"
            "  -o, --output OUT.npy   output file (written atomically)\n"
            "  -c, --config FILE      YAML config; only its frontend: section is used\n"
            "  --set key=value        override a config key (repeatable), e.g.\n"
            "                         --set frontend.mel.n_mels=128\n"
            "  --start SECONDS        start this far into the file (default 0)\n"
            "  --duration SECONDS     process this much audio (default: to the end)\n"
            "  --threads N            worker threads (default runtime.threads; 0 = all cores)\n"
            "  -h, --help             this help\n\n"
            "Memory stays bounded for any file length, but the output is not small: 64 mels at\n"
            "hop 300 and 16 kHz are about 1.1 GB per channel per day of audio, and the command\n"
            "needs about twice that on the output's disk while it runs.\n\n"
            "example:\n"
            "  baleen features demo.wav --config configs/demo.yaml -o demo.npy --duration 600\n"
            "  python3 -c \"import numpy; print(numpy.load('demo.npy').shape)\"\n");
}

static int usage_error(const char *fmt, const char *arg) {
    fprintf(stderr, "baleen: error: features: ");
    fprintf(stderr, fmt, arg);
    fprintf(stderr, " (see baleen features --help)\n");
    return BL_EXIT_USAGE;
}

static int parse_double(const char *s, double *v) {
    char *end;
    errno = 0;
    *v = strtod(s, &end);
    return errno == 0 && end != s && *end == '\0';
}

/* One channel's spill: chunks of frames stored transposed, [n_mels][len] each. */
typedef struct {
    bl_fe_stream *stream;
    float *frames;  /* BL_FEAT_CHUNK * n_mels, time-major, as the stream emits them */
    size_t n_held;  /* frames in `frames` */
    FILE *spill;    /* unlinked temp file next to the output */
    uint64_t total; /* frames emitted so far */
} feat_channel;

typedef struct {
    int n_mels;
    float *tbuf; /* transposition scratch, BL_FEAT_CHUNK * n_mels */
    size_t *chunk_len; /* frames per spilled chunk (same for every channel) */
    size_t n_chunks, cap_chunks;
} feat_layout;

static FILE *open_spill(const char *out_path) {
    size_t n = strlen(out_path);
    char *name = malloc(n + 16);
    if (!name) return NULL;
    snprintf(name, n + 16, "%s.spill.XXXXXX", out_path);
    int fd = mkstemp(name);
    FILE *f = NULL;
    if (fd >= 0) {
        unlink(name); /* anonymous: nothing is left behind if we die */
        f = fdopen(fd, "w+b");
        if (!f) close(fd);
    }
    if (!f)
        BL_ERROR(BL_ERR_IO, "cannot create a spill file next to %s: %s", out_path, strerror(errno));
    free(name);
    return f;
}

/* Write the held frames of channel ch transposed as one chunk. */
static bl_status spill_chunk(feat_channel *ch, feat_layout *lay) {
    size_t n = ch->n_held, nm = (size_t)lay->n_mels;
    if (n == 0) return BL_OK;
    /* In 16x16 tiles: both the reads and the strided writes stay within a few cache lines. */
    for (size_t f0 = 0; f0 < n; f0 += 16)
        for (size_t m0 = 0; m0 < nm; m0 += 16) {
            size_t f1 = f0 + 16 < n ? f0 + 16 : n, m1 = m0 + 16 < nm ? m0 + 16 : nm;
            for (size_t m = m0; m < m1; m++)
                for (size_t f = f0; f < f1; f++) lay->tbuf[m * n + f] = ch->frames[f * nm + m];
        }
    if (fwrite(lay->tbuf, sizeof(float), n * nm, ch->spill) != n * nm)
        return BL_ERROR(errno == ENOSPC ? BL_ERR_NO_SPACE : BL_ERR_IO,
                        "writing the spill file: %s", strerror(errno));
    ch->n_held = 0;
    return BL_OK;
}

/* Spill the frames every channel holds as one chunk (all channels hold the same count:
 * their streams see the same sample counts, so they emit the same frame counts). */
static bl_status flush_chunk(feat_channel *chs, int n_ch, feat_layout *lay) {
    size_t len = chs[0].n_held;
    if (len == 0) return BL_OK;
    for (int c = 0; c < n_ch; c++) {
        BL_RETURN_IF(chs[c].n_held != len, BL_ERR_INTERNAL,
                     "channel %d holds %zu frames, channel 0 %zu", c, chs[c].n_held, len);
        BL_TRY(spill_chunk(&chs[c], lay));
    }
    if (lay->n_chunks == lay->cap_chunks) {
        size_t cap = lay->cap_chunks ? lay->cap_chunks * 2 : 64;
        size_t *nc = realloc(lay->chunk_len, cap * sizeof *nc);
        BL_CHECK_ALLOC(nc);
        lay->chunk_len = nc;
        lay->cap_chunks = cap;
    }
    lay->chunk_len[lay->n_chunks++] = len;
    return BL_OK;
}

/* Push one planar block (n frames per channel) through every channel's stream, or finish
 * the streams when planar is NULL, in pieces whose frames fit the chunk buffers. */
static bl_status feed_block(feat_channel *chs, int n_ch, feat_layout *lay, const float *planar,
                            size_t stride, size_t n) {
    size_t nm = (size_t)lay->n_mels, off = 0;
    for (;;) {
        size_t room = BL_FEAT_CHUNK - chs[0].n_held;
        size_t piece = n - off;
        while (piece > 0 && bl_fe_stream_max_frames(chs[0].stream, piece) > room) piece /= 2;
        bool fits = planar ? piece > 0 || off == n
                           : bl_fe_stream_max_frames(chs[0].stream, 0) <= room;
        if (!fits) {
            BL_TRY(flush_chunk(chs, n_ch, lay));
            continue;
        }
        if (planar && piece == 0) return BL_OK; /* block done */
        for (int c = 0; c < n_ch; c++) {
            feat_channel *ch = &chs[c];
            size_t got = 0;
            float *dst = ch->frames + ch->n_held * nm;
            if (planar)
                BL_TRY(bl_fe_stream_push(ch->stream, planar + (size_t)c * stride + off, piece, dst,
                                         BL_FEAT_CHUNK - ch->n_held, &got));
            else
                BL_TRY(bl_fe_stream_finish(ch->stream, dst, BL_FEAT_CHUNK - ch->n_held, &got));
            ch->n_held += got;
            ch->total += got;
        }
        if (!planar) return flush_chunk(chs, n_ch, lay); /* the last, partial chunk */
        off += piece;
    }
}

/* Assemble OUT.npy: header, then for each channel each mel row, gathered from the chunks. */
static bl_status write_output(const char *out_path, feat_channel *chs, int n_ch,
                              const feat_layout *lay) {
    uint64_t frames = chs[0].total;
    size_t nm = (size_t)lay->n_mels;
    size_t shape[3] = {(size_t)n_ch, nm, (size_t)frames};
    size_t plen = strlen(out_path);
    char *tmp = malloc(plen + 16);
    BL_CHECK_ALLOC(tmp);
    snprintf(tmp, plen + 16, "%s.tmp.XXXXXX", out_path);
    int fd = mkstemp(tmp);
    if (fd < 0) {
        bl_status s = BL_ERROR(BL_ERR_IO, "cannot create %s: %s (does the folder exist?)", tmp,
                               strerror(errno));
        free(tmp);
        return s;
    }
    (void)fchmod(fd, 0644);
    FILE *f = fdopen(fd, "wb");
    bl_status s = f ? bl_npy_write_header(f, shape, 3) : BL_ERROR(BL_ERR_IO, "fdopen failed");
    float *row = malloc(BL_FEAT_CHUNK * sizeof(float));
    if (s == BL_OK && !row) s = BL_ERROR(BL_ERR_NOMEM, "out of memory");
    for (int c = 0; s == BL_OK && c < n_ch; c++) {
        int sfd = fileno(chs[c].spill);
        if (fflush(chs[c].spill) != 0) s = BL_ERROR(BL_ERR_IO, "flushing the spill file");
        for (size_t m = 0; s == BL_OK && m < nm; m++) {
            off_t base = 0;
            for (size_t k = 0; s == BL_OK && k < lay->n_chunks; k++) {
                size_t len = lay->chunk_len[k];
                off_t at = base + (off_t)(m * len * sizeof(float));
                ssize_t r = pread(sfd, row, len * sizeof(float), at);
                if (r != (ssize_t)(len * sizeof(float)))
                    s = BL_ERROR(BL_ERR_IO, "reading back the spill file: %s",
                                 r < 0 ? strerror(errno) : "short read");
                else if (fwrite(row, sizeof(float), len, f) != len)
                    s = BL_ERROR(errno == ENOSPC ? BL_ERR_NO_SPACE : BL_ERR_IO, "writing %s: %s",
                                 tmp, strerror(errno));
                base += (off_t)(nm * len * sizeof(float));
            }
        }
    }
    free(row);
    if (f) {
        if (s == BL_OK && (fflush(f) != 0 || fsync(fileno(f)) != 0))
            s = BL_ERROR(errno == ENOSPC ? BL_ERR_NO_SPACE : BL_ERR_IO, "writing %s: %s", tmp,
                         strerror(errno));
        if (fclose(f) != 0 && s == BL_OK) s = BL_ERROR(BL_ERR_IO, "closing %s", tmp);
    } else {
        close(fd);
    }
    if (s == BL_OK && rename(tmp, out_path) != 0)
        s = BL_ERROR(BL_ERR_IO, "cannot rename %s to %s: %s", tmp, out_path, strerror(errno));
    if (s != BL_OK) unlink(tmp);
    free(tmp);
    return s;
}

static double now_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

/* Everything after argument parsing; returns a status, the caller maps it to an exit code. */
static bl_status run_features(const char *audio_path, const char *out_path,
                              const bl_frontend_params *fp, double start_s, double duration_s,
                              int threads) {
    bl_frontend *fe = NULL;
    bl_audio_stream *as = NULL;
    feat_channel *chs = NULL;
    feat_layout lay = {fp->mel.n_mels, NULL, NULL, 0, 0};
    int n_ch = 0;
    double t0 = now_s();
    uint64_t samples = 0;
    bl_status s = bl_frontend_create(fp, &fe);
    if (s == BL_OK) {
        bl_audio_stream_opts o = {fp->sample_rate, start_s, duration_s, 0};
        s = bl_audio_stream_open(audio_path, &o, &as);
    }
    if (s == BL_OK) {
        n_ch = bl_audio_stream_channels(as);
        chs = calloc((size_t)n_ch, sizeof *chs);
        lay.tbuf = malloc(sizeof(float) * BL_FEAT_CHUNK * (size_t)lay.n_mels);
        if (!chs || !lay.tbuf) s = BL_ERROR(BL_ERR_NOMEM, "out of memory for %d channels", n_ch);
    }
    for (int c = 0; s == BL_OK && c < n_ch; c++) {
        chs[c].frames = malloc(sizeof(float) * BL_FEAT_CHUNK * (size_t)lay.n_mels);
        if (!chs[c].frames) s = BL_ERROR(BL_ERR_NOMEM, "out of memory for channel %d", c);
        if (s == BL_OK) s = bl_fe_stream_create(fe, threads, &chs[c].stream);
        if (s == BL_OK && !(chs[c].spill = open_spill(out_path))) s = BL_ERR_IO;
    }
    if (s == BL_OK) {
        const bl_audio_info *info = bl_audio_stream_info(as);
        BL_LOG_I("features: %s: %s, %d Hz, %d channel%s -> %d Hz, %d mels, %d thread%s",
                 audio_path, info->format, info->sample_rate, n_ch, n_ch > 1 ? "s" : "",
                 fp->sample_rate, fp->mel.n_mels, threads, threads > 1 ? "s" : "");
    }
    while (s == BL_OK) {
        const float *planar = NULL;
        size_t n = 0;
        s = bl_audio_stream_next(as, &planar, &n);
        if (s != BL_OK || n == 0) break;
        samples += n;
        s = feed_block(chs, n_ch, &lay, planar, bl_audio_stream_stride(as), n);
    }
    if (s == BL_OK) s = feed_block(chs, n_ch, &lay, NULL, 0, 0);
    if (s == BL_OK && chs[0].total != bl_frontend_frame_count(fe, (size_t)samples))
        s = BL_ERROR(BL_ERR_INTERNAL, "%llu frames for %llu samples, expected %zu",
                     (unsigned long long)chs[0].total, (unsigned long long)samples,
                     bl_frontend_frame_count(fe, (size_t)samples));
    if (s == BL_OK) s = write_output(out_path, chs, n_ch, &lay);
    if (s == BL_OK) {
        double dt = now_s() - t0;
        BL_LOG_I("features: wrote %s [%d, %d, %llu]: %.1f s of audio in %.3f s (%.0f frames/s "
                 "per channel, %.0fx real time)",
                 out_path, n_ch, lay.n_mels, (unsigned long long)chs[0].total,
                 (double)samples / fp->sample_rate, dt, (double)chs[0].total / dt,
                 (double)samples / fp->sample_rate / dt);
    }
    for (int c = 0; chs && c < n_ch; c++) {
        bl_fe_stream_destroy(chs[c].stream);
        free(chs[c].frames);
        if (chs[c].spill) fclose(chs[c].spill);
    }
    free(chs);
    free(lay.tbuf);
    free(lay.chunk_len);
    bl_audio_stream_close(as);
    bl_frontend_destroy(fe);
    return s;
}

int bl_cmd_features(int argc, char **argv) {
    const char *audio = NULL, *out = NULL, *config = NULL;
    double start_s = 0, duration_s = 0;
    long threads = -1;
    const char **sets = calloc((size_t)argc + 1, sizeof *sets);
    int n_sets = 0;
    if (!sets) return bl_cli_error(BL_ERROR(BL_ERR_NOMEM, "out of memory"), "features");
    int rc = -1;
    for (int i = 1; i < argc && rc < 0; i++) {
        const char *a = argv[i];
        int has_val = i + 1 < argc;
        if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
            print_help(stdout);
            rc = BL_EXIT_OK;
        } else if (!strcmp(a, "-o") || !strcmp(a, "--output")) {
            if (!has_val) rc = usage_error("%s needs a file name", a);
            else out = argv[++i];
        } else if (!strcmp(a, "-c") || !strcmp(a, "--config")) {
            if (!has_val) rc = usage_error("%s needs a file name", a);
            else config = argv[++i];
        } else if (!strcmp(a, "--set")) {
            if (!has_val) rc = usage_error("%s needs key=value", a);
            else sets[n_sets++] = argv[++i];
        } else if (!strcmp(a, "--start") || !strcmp(a, "--duration")) {
            double v;
            if (!has_val || !parse_double(argv[i + 1], &v) || !(v >= 0))
                rc = usage_error("%s needs a number of seconds >= 0", a);
            else if (!strcmp(a, "--start")) start_s = v, i++;
            else duration_s = v, i++;
        } else if (!strcmp(a, "--threads")) {
            char *end;
            if (has_val) threads = strtol(argv[i + 1], &end, 10);
            if (!has_val || *end || end == argv[i + 1] || threads < 0 || threads > 256)
                rc = usage_error("%s needs an integer in 0..256", a);
            i++;
        } else if (a[0] == '-' && a[1]) {
            rc = usage_error("unknown option '%s'", a);
        } else if (!audio) {
            audio = a;
        } else {
            rc = usage_error("unexpected argument '%s': one audio file at a time", a);
        }
    }
    if (rc < 0 && !audio) rc = usage_error("%s", "no audio file given");
    if (rc < 0 && !out) rc = usage_error("%s", "no output given: use -o OUT.npy");
    if (rc >= 0) {
        free(sets);
        return rc;
    }

    bl_config cfg;
    bl_status s = config ? bl_config_load_file(config, &cfg) : bl_config_init_defaults(&cfg);
    for (int i = 0; s == BL_OK && i < n_sets; i++) s = bl_config_set(&cfg, sets[i]);
    if (s == BL_OK) s = bl_config_validate(&cfg);
    if (s == BL_OK) s = bl_frontend_params_validate(&cfg.frontend);
    free(sets);
    if (s != BL_OK) {
        rc = bl_cli_error(s, "features");
        bl_config_free(&cfg);
        return rc;
    }
    if (threads < 0) threads = cfg.runtime.threads;
    if (threads == 0) {
        long n = sysconf(_SC_NPROCESSORS_ONLN);
        threads = n > 0 ? (n > 256 ? 256 : n) : 1;
    }
    bl_frontend_params fp = cfg.frontend;
    bl_config_free(&cfg);
    s = run_features(audio, out, &fp, start_s, duration_s, (int)threads);
    if (s != BL_OK) return bl_cli_error(s, "features");
    return BL_EXIT_OK;
}
