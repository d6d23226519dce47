/* audio.c — the audio reader (libsndfile through its virtual I/O) and the block stream
 * (reader + resampler + channel split) declared in audio.h.
 *
 * Owns: per reader, one byte source (a file descriptor, a borrowed memory buffer or a
 * caller's bl_audio_source) and one SNDFILE; per stream, its reader, its resampler and up
 * to three buffers (decoder chunk, resampled output, and the block of
 * bl_audio_stream_next, made on first use) whose sizes depend on block_frames and the
 * channel count, never on the file length.
 *
 * Little-endian 16/24/32-bit PCM in RIFF-family files is read raw (sf_read_raw) and
 * converted here, bit-identical to libsndfile's own conversion but without its 8 KB
 * buffer steps; mono audio at the output rate is decoded straight into the caller's block.
 *
 * Every byte libsndfile sees comes through vio_* below, so local files, memory and (later)
 * HTTP byte ranges share one code path, and an I/O error in the source is reported with
 * its own status and message instead of libsndfile's generic "short read".
 *
 * Threading: a reader or stream is used by one thread at a time; nothing is shared. One
 * caveat from libsndfile: the reason for a failed open lives in a process-wide variable
 * (sf_strerror(NULL)), so two threads failing at the same moment may swap the libsndfile
 * part of their messages; the status and the file named stay right.
 */
#include "audio.h"

#include <errno.h>     /* open/pread failures */
#include <stdint.h>    /* INT64_MAX, SIZE_MAX: bounds on hostile sizes */
#include <math.h>      /* floor, llround, isfinite */
#include <stdbool.h>   /* bool */
#include <sndfile.h>   /* decoding */
#include <stdio.h>     /* snprintf */
#include <stdlib.h>    /* malloc/free */
#include <string.h>    /* memcpy, strstr on libsndfile's log */
#include <unistd.h>    /* pread, close */

#include "../core/infile.h" /* bl_infile_open: never blocks, regular files only */
#include "../core/log.h"    /* warning for truncated files */

/* Largest rate accepted from a header or as a target: far above any recorder (bat
 * detectors reach 1 MHz), low enough that rate arithmetic cannot overflow. */
#define BL_AUDIO_MAX_RATE 10000000
/* Input frames per decode call of a stream: at most 8192 frames and 64 Ki samples (many
 * channels), fewer when upsampling would make one chunk's output exceed 256 Ki samples.
 * Derived from the rates and channel count only, never from block_frames, so the decoder
 * and the resampler see the same calls whatever the block size. */
#define BL_STREAM_CHUNK_FRAMES 8192
#define BL_STREAM_CHUNK_SAMPLES 65536
#define BL_STREAM_CHUNK_OUT_SAMPLES 262144

struct bl_audio_reader {
    bl_audio_source src;
    int64_t pos;              /* byte position of the virtual I/O */
    bl_status io_status;      /* first error from src.read_at, BL_OK if none */
    char io_msg[512];         /* its message, copied at once: later errors would replace it */
    SNDFILE *sf;
    bl_audio_info info;
    int64_t frame;            /* next frame bl_audio_read returns */
    int at_end;               /* end of data seen and reported */
    char truncated_note[160]; /* libsndfile's log line when a header overstates the data */
    int exact_seek;           /* sf_seek lands on the same samples as reading through */
    int raw_width;            /* bytes per sample of the raw PCM path (2, 3, 4), 0 = off */
    int float_src;            /* float/double samples: NaN and Inf are possible */
    bl_audio_nonfinite *nf;   /* per channel, allocated at the first non-finite sample */
    char *trunc_msg;          /* why the data ended early (once the end was reached), or NULL */
    char name[];              /* path or caller's name, for messages */
};

/* ---- byte sources ------------------------------------------------------------------- */

typedef struct {
    int fd;
    const char *name; /* borrowed from the reader, for messages */
} fd_source;

static bl_status fd_read_at(void *user, int64_t off, void *buf, size_t n, size_t *got) {
    fd_source *f = user;
    size_t done = 0;
    while (done < n) {
        ssize_t k = pread(f->fd, (char *)buf + done, n - done, (off_t)(off + (int64_t)done));
        if (k < 0 && errno == EINTR) continue;
        if (k < 0)
            return BL_ERROR(BL_ERR_IO, "%s: read error at byte %lld: %s", f->name,
                            (long long)(off + (int64_t)done), strerror(errno));
        if (k == 0) break;
        done += (size_t)k;
    }
    *got = done;
    return BL_OK;
}

static void fd_close(void *user) {
    fd_source *f = user;
    close(f->fd);
    free(f);
}

typedef struct {
    const unsigned char *data;
} mem_source;

static bl_status mem_read_at(void *user, int64_t off, void *buf, size_t n, size_t *got) {
    /* the caller (vio_read) already clipped [off, off + n) to the size */
    memcpy(buf, ((mem_source *)user)->data + off, n);
    *got = n;
    return BL_OK;
}

static void mem_close(void *user) { free(user); }

/* ---- libsndfile virtual I/O over a bl_audio_source ---------------------------------- */

static sf_count_t vio_get_filelen(void *user) { return ((bl_audio_reader *)user)->src.size; }

static sf_count_t vio_seek(sf_count_t offset, int whence, void *user) {
    bl_audio_reader *r = user;
    int64_t base = whence == SEEK_CUR ? r->pos : whence == SEEK_END ? r->src.size : 0;
    /* overflow-safe: a hostile header can ask for any offset */
    if ((offset > 0 && base > INT64_MAX - offset) || base + offset < 0) return -1;
    r->pos = base + offset;
    return r->pos;
}

static sf_count_t vio_read(void *ptr, sf_count_t count, void *user) {
    bl_audio_reader *r = user;
    if (count <= 0 || r->pos >= r->src.size || r->io_status != BL_OK) return 0;
    int64_t n = count;
    if (n > r->src.size - r->pos) n = r->src.size - r->pos;
    size_t got = 0;
    bl_status s = r->src.read_at(r->src.user, r->pos, ptr, (size_t)n, &got);
    if (s != BL_OK) {
        r->io_status = s;
        snprintf(r->io_msg, sizeof r->io_msg, "%s", bl_error_message());
        return 0;
    }
    if (got > (size_t)n) got = (size_t)n;
    r->pos += (int64_t)got;
    return (sf_count_t)got;
}

static sf_count_t vio_write(const void *ptr, sf_count_t count, void *user) {
    (void)ptr, (void)count, (void)user;
    return 0; /* read only */
}

static sf_count_t vio_tell(void *user) { return ((bl_audio_reader *)user)->pos; }

/* ---- raw integer PCM -------------------------------------------------------------------
 * For little-endian 16/24/32-bit PCM in the RIFF family (the archive formats), samples are
 * read with sf_read_raw (one read call per block instead of libsndfile's 8 KB buffer
 * steps) and converted here with the same arithmetic as libsndfile 1.2's pcm.c:
 *   16 bit: (float)s * 2^-15;  24 bit: (float)(s << 8) * 2^-31;  32 bit: (float)s * 2^-31.
 * Every product is exact or rounded once by the int -> float conversion (round to nearest
 * even in C and in cvtdq2ps alike), so the floats are bit-identical to sf_readf_float's
 * (tests/unit/test_audio_pcm.c checks all 2^24 24-bit and 2^16 16-bit values).
 *
 * The conversion runs in place: the raw bytes of n samples sit at the end of the n-float
 * destination (at byte offset n * (4 - width)), and output i is stored only after input i
 * was loaded; an output never reaches bytes not yet read, since 4 (i+1) <= n (4 - width) +
 * width (i+1) for i < n. */

static void pcm_scalar(float *dst, const unsigned char *src, size_t i, size_t n, int width) {
    const float s15 = 1.0f / 32768.0f, s31 = 1.0f / 2147483648.0f;
    if (width == 2)
        for (; i < n; i++) {
            int16_t v = (int16_t)(uint16_t)(src[2 * i] | (unsigned)src[2 * i + 1] << 8);
            dst[i] = (float)v * s15;
        }
    else if (width == 3)
        for (; i < n; i++) {
            uint32_t u = (uint32_t)src[3 * i] << 8 | (uint32_t)src[3 * i + 1] << 16 |
                         (uint32_t)src[3 * i + 2] << 24;
            dst[i] = (float)(int32_t)u * s31;
        }
    else
        for (; i < n; i++) {
            uint32_t u = (uint32_t)src[4 * i] | (uint32_t)src[4 * i + 1] << 8 |
                         (uint32_t)src[4 * i + 2] << 16 | (uint32_t)src[4 * i + 3] << 24;
            dst[i] = (float)(int32_t)u * s31;
        }
}

#if (defined(__GNUC__) || defined(__clang__)) && defined(__x86_64__)
#include <immintrin.h> /* SSE2/SSSE3 conversion of raw PCM */
#define BL_PCM_X86 1
/* 24 bit: 4 samples per 16-byte load (12 used), bytes placed in the top of each int32. */
__attribute__((target("ssse3"))) static size_t pcm24_ssse3(float *dst, const unsigned char *src,
                                                           size_t n) {
    const __m128i shuf = _mm_setr_epi8(-1, 0, 1, 2, -1, 3, 4, 5, -1, 6, 7, 8, -1, 9, 10, 11);
    const __m128 scale = _mm_set1_ps(1.0f / 2147483648.0f);
    size_t i = 0;
    for (; i + 6 <= n; i += 4) { /* i + 6: the 16-byte load stays within 3n bytes */
        __m128i v = _mm_shuffle_epi8(_mm_loadu_si128((const __m128i *)(src + 3 * i)), shuf);
        _mm_storeu_ps(dst + i, _mm_mul_ps(_mm_cvtepi32_ps(v), scale));
    }
    return i;
}
/* 16 bit (SSE2, always there on x86-64): 8 samples per load, sign-extended by a shift. */
static size_t pcm16_sse2(float *dst, const unsigned char *src, size_t n) {
    const __m128 scale = _mm_set1_ps(1.0f / 32768.0f);
    const __m128i zero = _mm_setzero_si128();
    size_t i = 0;
    for (; i + 8 <= n; i += 8) {
        __m128i v = _mm_loadu_si128((const __m128i *)(src + 2 * i));
        __m128i lo = _mm_srai_epi32(_mm_unpacklo_epi16(zero, v), 16);
        __m128i hi = _mm_srai_epi32(_mm_unpackhi_epi16(zero, v), 16);
        __m128 flo = _mm_mul_ps(_mm_cvtepi32_ps(lo), scale);
        __m128 fhi = _mm_mul_ps(_mm_cvtepi32_ps(hi), scale);
        _mm_storeu_ps(dst + i, flo);
        _mm_storeu_ps(dst + i + 4, fhi);
    }
    return i;
}
static size_t pcm32_sse2(float *dst, const unsigned char *src, size_t n) {
    const __m128 scale = _mm_set1_ps(1.0f / 2147483648.0f);
    size_t i = 0;
    for (; i + 4 <= n; i += 4) {
        __m128i v = _mm_loadu_si128((const __m128i *)(src + 4 * i));
        _mm_storeu_ps(dst + i, _mm_mul_ps(_mm_cvtepi32_ps(v), scale));
    }
    return i;
}
#endif

/* Convert n little-endian samples of `width` bytes at src to float at dst (in place as
 * described above, or into a separate buffer). */
static void pcm_to_float(float *dst, const unsigned char *src, size_t n, int width) {
    size_t i = 0;
#ifdef BL_PCM_X86
    if (width == 2) i = pcm16_sse2(dst, src, n);
    else if (width == 4) i = pcm32_sse2(dst, src, n);
    else if (__builtin_cpu_supports("ssse3")) i = pcm24_ssse3(dst, src, n);
#endif
    pcm_scalar(dst, src, i, n, width);
}

void bl_audio_pcm_to_float(float *dst, const void *src, size_t n, int width) {
    if (width >= 2 && width <= 4) pcm_to_float(dst, src, n, width);
}

/* Read up to `frames` frames with sf_read_raw and convert them in place; returns frames. */
static sf_count_t read_raw_pcm(bl_audio_reader *r, float *dst, size_t frames) {
    size_t ch = (size_t)r->info.channels, w = (size_t)r->raw_width, ns = frames * ch;
    unsigned char *raw = (unsigned char *)dst + ns * (4 - w);
    sf_count_t bytes = sf_read_raw(r->sf, raw, (sf_count_t)(ns * w));
    if (bytes <= 0) return 0;
    size_t got = (size_t)bytes / (w * ch); /* a partial last frame is dropped, as libsndfile does */
    pcm_to_float(dst, raw, got * ch, (int)w);
    return (sf_count_t)got;
}

/* ---- format names and checks -------------------------------------------------------- */

static const char *major_name(int major) {
    switch (major) {
    case SF_FORMAT_WAV: return "WAV";
    case SF_FORMAT_WAVEX: return "WAVEX";
    case SF_FORMAT_RF64: return "RF64";
    case SF_FORMAT_W64: return "W64";
    case SF_FORMAT_AIFF: return "AIFF";
    case SF_FORMAT_CAF: return "CAF";
    case SF_FORMAT_FLAC: return "FLAC";
    case SF_FORMAT_OGG: return "OGG";
    case SF_FORMAT_MPEG: return "MPEG";
    default: return NULL; /* not accepted */
    }
}

static const char *subtype_name(int sub) {
    switch (sub) {
    case SF_FORMAT_PCM_S8: return "PCM_S8";
    case SF_FORMAT_PCM_U8: return "PCM_U8";
    case SF_FORMAT_PCM_16: return "PCM_16";
    case SF_FORMAT_PCM_24: return "PCM_24";
    case SF_FORMAT_PCM_32: return "PCM_32";
    case SF_FORMAT_FLOAT: return "FLOAT";
    case SF_FORMAT_DOUBLE: return "DOUBLE";
    case SF_FORMAT_ULAW: return "ULAW";
    case SF_FORMAT_ALAW: return "ALAW";
    case SF_FORMAT_IMA_ADPCM: return "IMA_ADPCM";
    case SF_FORMAT_MS_ADPCM: return "MS_ADPCM";
    case SF_FORMAT_GSM610: return "GSM610";
    case SF_FORMAT_G721_32: return "G721_32";
    case SF_FORMAT_VORBIS: return "VORBIS";
    case SF_FORMAT_OPUS: return "OPUS";
    case SF_FORMAT_ALAC_16: return "ALAC_16";
    case SF_FORMAT_ALAC_20: return "ALAC_20";
    case SF_FORMAT_ALAC_24: return "ALAC_24";
    case SF_FORMAT_ALAC_32: return "ALAC_32";
    case SF_FORMAT_MPEG_LAYER_I: return "MPEG_LAYER_I";
    case SF_FORMAT_MPEG_LAYER_II: return "MPEG_LAYER_II";
    case SF_FORMAT_MPEG_LAYER_III: return "MPEG_LAYER_III";
    default: return NULL;
    }
}

/* Accept only containers whose magic we know before libsndfile guesses: its detection
 * also tries a dozen rarely used formats whose parsers should not meet outside data. */
static int magic_accepted(const unsigned char *b, size_t n) {
    if (n >= 4) {
        static const char *const magics[] = {"RIFF", "RIFX", "RF64", "riff", "FORM",
                                             "caff", "fLaC", "OggS"};
        for (size_t i = 0; i < sizeof magics / sizeof magics[0]; i++)
            if (memcmp(b, magics[i], 4) == 0) return 1;
    }
    if (n >= 3 && memcmp(b, "ID3", 3) == 0) return 1;           /* MP3 with a tag */
    if (n >= 2 && b[0] == 0xFF && (b[1] & 0xE0) == 0xE0) return 1; /* MPEG frame sync */
    return 0;
}

/* libsndfile's strings end with '.'; messages here add their own punctuation. */
static const char *sf_reason(SNDFILE *sf, char *buf, size_t cap) {
    snprintf(buf, cap, "%s", sf_strerror(sf));
    size_t n = strlen(buf);
    while (n > 0 && (buf[n - 1] == '.' || buf[n - 1] == '\n')) buf[--n] = '\0';
    return buf;
}

/* Truncation that libsndfile notices while parsing the header but does not report as an
 * error: a RIFF/AIFF data chunk that claims more bytes than the file holds (it clamps the
 * frame count to what is there and logs "data : N (should be M)"), or an Ogg stream
 * without its end-of-stream page (the frame count becomes unknown). Keep the log line for
 * the warning at the end of the data. */
static void find_truncation(bl_audio_reader *r) {
    char log[4096];
    log[0] = '\0';
    sf_command(r->sf, SFC_GET_LOG_INFO, log, (int)sizeof log);
    for (char *line = log; line && *line;) {
        char *eol = strchr(line, '\n');
        if (eol) *eol = '\0';
        const char *p = line;
        while (*p == ' ') p++;
        if (((strncmp(p, "data", 4) == 0 || strncmp(p, "SSND", 4) == 0) &&
             strstr(p, "(should be")) ||
            strstr(p, "ended unexpectedly")) {
            snprintf(r->truncated_note, sizeof r->truncated_note, "%.150s", p);
            return;
        }
        line = eol ? eol + 1 : NULL;
    }
}

/* ---- reader ------------------------------------------------------------------------- */

static void reader_free(bl_audio_reader *r) {
    if (!r) return;
    free(r->nf);
    free(r->trunc_msg);
    if (r->sf) sf_close(r->sf);
    if (r->src.close) r->src.close(r->src.user);
    free(r);
}

bl_status bl_audio_open_source(const bl_audio_source *src, const char *name,
                               bl_audio_reader **out) {
    if (out) *out = NULL;
    if (!name) name = "(audio data)";
    if (!src || !src->read_at || !out || src->size < 0) {
        if (src && src->close) src->close(src->user);
        return BL_ERROR(BL_ERR_INVALID_ARG, "%s: invalid audio source", name);
    }
    size_t nlen = strlen(name);
    bl_audio_reader *r = calloc(1, sizeof *r + nlen + 1);
    if (!r) {
        if (src->close) src->close(src->user);
        return BL_ERROR(BL_ERR_NOMEM, "%s: out of memory opening audio", name);
    }
    memcpy(r->name, name, nlen + 1);
    r->src = *src;
    /* the caller's path may not outlive the reader: read errors name our copy */
    if (r->src.close == fd_close) ((fd_source *)r->src.user)->name = r->name;

    if (src->size == 0) {
        reader_free(r);
        return BL_ERROR(BL_ERR_DECODE, "%s: empty file (0 bytes), not audio", name);
    }
    unsigned char head[16];
    int64_t hn = src->size < (int64_t)sizeof head ? src->size : (int64_t)sizeof head;
    if (vio_read(head, hn, r) != hn) {
        bl_status s = r->io_status != BL_OK
                          ? bl_error_set(r->io_status, __FILE__, __LINE__, "%s", r->io_msg)
                          : BL_ERROR(BL_ERR_IO, "%s: short read of the file header", name);
        reader_free(r);
        return s;
    }
    r->pos = 0;
    if (!magic_accepted(head, (size_t)hn)) {
        reader_free(r);
        return BL_ERROR(BL_ERR_DECODE,
                        "%s: not a recognised audio file (no WAV, AIFF, CAF, FLAC, OGG or MP3 "
                        "header; %lld bytes)", name, (long long)src->size);
    }

    SF_VIRTUAL_IO vio = {vio_get_filelen, vio_seek, vio_read, vio_write, vio_tell};
    SF_INFO sfi;
    memset(&sfi, 0, sizeof sfi);
    r->sf = sf_open_virtual(&vio, SFM_READ, &sfi, r);
    char why[256];
    if (!r->sf) {
        bl_status s;
        if (r->io_status != BL_OK) {
            s = bl_error_set(r->io_status, __FILE__, __LINE__, "%s", r->io_msg);
        } else {
            s = BL_ERROR(BL_ERR_DECODE, "%s: not a recognised audio file or corrupt header "
                         "(libsndfile: %s)", name, sf_reason(NULL, why, sizeof why));
        }
        reader_free(r);
        return s;
    }
    int major = sfi.format & SF_FORMAT_TYPEMASK, sub = sfi.format & SF_FORMAT_SUBMASK;
    const char *mname = major_name(major), *sname = subtype_name(sub);
    bl_status s = BL_OK;
    if (!mname)
        s = BL_ERROR(BL_ERR_DECODE, "%s: unsupported audio container (libsndfile format "
                     "0x%x); use WAV, FLAC, OGG or MP3", name, (unsigned)major);
    else if (sfi.channels < 1)
        s = BL_ERROR(BL_ERR_DECODE, "%s: corrupt header: %d channels", name, sfi.channels);
    else if (sfi.samplerate < 1 || sfi.samplerate > BL_AUDIO_MAX_RATE)
        s = BL_ERROR(BL_ERR_DECODE, "%s: corrupt header: sample rate %d Hz", name,
                     sfi.samplerate);
    else if (sfi.frames == 0)
        s = BL_ERROR(BL_ERR_DECODE, "%s: no audio frames (header only, or data cut off "
                     "before the first frame)", name);
    else if (r->io_status != BL_OK)
        s = bl_error_set(r->io_status, __FILE__, __LINE__, "%s", r->io_msg);
    if (s != BL_OK) {
        reader_free(r);
        return s;
    }
    r->info.sample_rate = sfi.samplerate;
    r->info.channels = sfi.channels;
    r->info.frames = (sfi.frames < 0 || sfi.frames == SF_COUNT_MAX) ? -1 : (int64_t)sfi.frames;
    if (sname)
        snprintf(r->info.format, sizeof r->info.format, "%s %s", mname, sname);
    else
        snprintf(r->info.format, sizeof r->info.format, "%s 0x%04x", mname, (unsigned)sub);
    /* libsndfile 1.2.0 seeks in Ogg Vorbis and MP3 only approximately: MP3 through the
     * Xing table of contents (thousands of frames off), Vorbis without the overlap of the
     * previous block (the first samples differ). Those formats seek by decoding. */
    r->exact_seek = major != SF_FORMAT_OGG && major != SF_FORMAT_MPEG;
    r->float_src = sub == SF_FORMAT_FLOAT || sub == SF_FORMAT_DOUBLE;
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
    /* libsndfile reads these subtypes in these containers with pcm.c; RIFX (big-endian
     * WAV) and anything needing a byte swap keep libsndfile's conversion. */
    if ((major == SF_FORMAT_WAV || major == SF_FORMAT_WAVEX || major == SF_FORMAT_RF64 ||
         major == SF_FORMAT_W64) &&
        (sub == SF_FORMAT_PCM_16 || sub == SF_FORMAT_PCM_24 || sub == SF_FORMAT_PCM_32) &&
        (sfi.format & SF_FORMAT_ENDMASK) != SF_ENDIAN_BIG &&
        sf_command(r->sf, SFC_RAW_DATA_NEEDS_ENDSWAP, NULL, 0) == SF_FALSE)
        r->raw_width = sub == SF_FORMAT_PCM_16 ? 2 : sub == SF_FORMAT_PCM_24 ? 3 : 4;
#endif
    find_truncation(r);
    /* A complete Ogg stream ends with an end-of-stream page holding the length; without it
     * libsndfile cannot tell the frame count, which only a cut-off file does. */
    if (major == SF_FORMAT_OGG && r->info.frames < 0 && !r->truncated_note[0])
        snprintf(r->truncated_note, sizeof r->truncated_note, "Ogg stream without its last page");
    *out = r;
    return BL_OK;
}

bl_status bl_audio_open(const char *path, bl_audio_reader **out) {
    if (out) *out = NULL;
    BL_RETURN_IF(!path || !out, BL_ERR_INVALID_ARG, "bl_audio_open: NULL argument");
    int fd = -1;
    int64_t size = 0;
    BL_TRY(bl_infile_open(path, "audio file", &fd, &size)); /* never blocks; regular files only */
    fd_source *f = malloc(sizeof *f);
    if (!f) {
        close(fd);
        return BL_ERROR(BL_ERR_NOMEM, "%s: out of memory opening audio", path);
    }
    f->fd = fd;
    f->name = path;
    bl_audio_source src = {size, fd_read_at, fd_close, f};
    return bl_audio_open_source(&src, path, out);
}

bl_status bl_audio_open_memory(const void *data, size_t size, const char *name,
                               bl_audio_reader **out) {
    if (out) *out = NULL;
    if (!name) name = "(memory)";
    BL_RETURN_IF(!out || (!data && size > 0) || size > (size_t)INT64_MAX, BL_ERR_INVALID_ARG,
                 "%s: invalid memory buffer", name);
    mem_source *m = malloc(sizeof *m);
    BL_RETURN_IF(!m, BL_ERR_NOMEM, "%s: out of memory opening audio", name);
    m->data = data;
    bl_audio_source src = {(int64_t)size, mem_read_at, mem_close, m};
    return bl_audio_open_source(&src, name, out);
}

void bl_audio_close(bl_audio_reader *r) { reader_free(r); }

const bl_audio_info *bl_audio_get_info(const bl_audio_reader *r) { return &r->info; }

const char *bl_audio_path(const bl_audio_reader *r) { return r->name; }

/* Seek by decoding: restart if the target is behind, then read and drop frames. */
static bl_status seek_by_decoding(bl_audio_reader *r, int64_t frame) {
    char why[256];
    if (frame < r->frame) {
        if (sf_seek(r->sf, 0, SEEK_SET) != 0) {
            if (r->io_status != BL_OK)
                return bl_error_set(r->io_status, __FILE__, __LINE__, "%s", r->io_msg);
            return BL_ERROR(BL_ERR_DECODE, "%s: cannot rewind to the start (libsndfile: %s)",
                            r->name, sf_reason(r->sf, why, sizeof why));
        }
        r->frame = 0;
    }
    float scratch[4096];
    sf_count_t step = (sf_count_t)(4096 / r->info.channels);
    if (step < 1) step = 1; /* libsndfile caps channels at 1024 */
    while (r->frame < frame) {
        sf_count_t want = frame - r->frame < step ? frame - r->frame : step;
        sf_count_t n = sf_readf_float(r->sf, scratch, want);
        if (r->io_status != BL_OK)
            return bl_error_set(r->io_status, __FILE__, __LINE__, "%s", r->io_msg);
        if (n <= 0)
            return BL_ERROR(BL_ERR_RANGE, "%s: cannot seek to frame %lld: the audio ends at "
                            "frame %lld", r->name, (long long)frame, (long long)r->frame);
        r->frame += n;
    }
    return BL_OK;
}

bl_status bl_audio_seek(bl_audio_reader *r, int64_t frame) {
    BL_RETURN_IF(frame < 0 || (r->info.frames >= 0 && frame > r->info.frames), BL_ERR_RANGE,
                 "%s: cannot seek to frame %lld: the file has %lld frames", r->name,
                 (long long)frame, (long long)r->info.frames);
    if (!r->exact_seek) {
        r->at_end = 0;
        return seek_by_decoding(r, frame);
    }
    sf_count_t got = sf_seek(r->sf, (sf_count_t)frame, SEEK_SET);
    if (r->io_status != BL_OK) return bl_error_set(r->io_status, __FILE__, __LINE__, "%s", r->io_msg);
    if (got != (sf_count_t)frame) {
        char why[256];
        return BL_ERROR(BL_ERR_DECODE, "%s: cannot seek to frame %lld of %lld; the file is "
                        "corrupt or truncated (libsndfile: %s)", r->name, (long long)frame,
                        (long long)r->info.frames, sf_reason(r->sf, why, sizeof why));
    }
    r->frame = frame;
    r->at_end = 0;
    return BL_OK;
}

/* NaN and Inf samples of a float source are counted per channel (the first few positions
 * kept) and replaced by 0, so that nothing downstream (the resampler spreads a NaN over its
 * whole filter) ever sees them; whether that fails the input is the caller's policy. */
static bl_status scrub_nonfinite(bl_audio_reader *r, float *x, size_t n) {
    const size_t ch = (size_t)r->info.channels;
    for (size_t i = 0; i < n * ch; i++) {
        if (isfinite(x[i])) continue;
        if (!r->nf) {
            r->nf = calloc(ch, sizeof *r->nf);
            BL_RETURN_IF(!r->nf, BL_ERR_NOMEM, "%s: out of memory", r->name);
        }
        bl_audio_nonfinite *c = &r->nf[i % ch];
        if (c->n_pos < BL_AUDIO_NONFINITE_POS) c->pos[c->n_pos++] = r->frame + (int64_t)(i / ch);
        c->count++;
        x[i] = 0.0f;
    }
    return BL_OK;
}

const bl_audio_nonfinite *bl_audio_get_nonfinite(const bl_audio_reader *r, int channel) {
    static const bl_audio_nonfinite none = {0, 0, {0}};
    if (!r->nf || channel < 0 || channel >= r->info.channels) return &none;
    return &r->nf[channel];
}

const char *bl_audio_truncation(const bl_audio_reader *r) { return r->trunc_msg; }

bl_status bl_audio_read(bl_audio_reader *r, float *interleaved, size_t max_frames, size_t *got) {
    *got = 0;
    if (max_frames == 0 || r->at_end) return BL_OK;
    size_t cap = ((size_t)1 << 40) / (size_t)r->info.channels; /* ns * 4 bytes cannot overflow */
    if (max_frames > cap) max_frames = cap;
    sf_count_t n = r->raw_width ? read_raw_pcm(r, interleaved, max_frames)
                                : sf_readf_float(r->sf, interleaved, (sf_count_t)max_frames);
    if (r->io_status != BL_OK) return bl_error_set(r->io_status, __FILE__, __LINE__, "%s", r->io_msg);
    if (n < 0) n = 0;
    if (n > 0 && r->float_src) BL_TRY(scrub_nonfinite(r, interleaved, (size_t)n));
    r->frame += n;
    if (n > 0) {
        *got = (size_t)n;
        return BL_OK;
    }
    /* End of data: tell a clean end from a truncated file and from a decode error. */
    r->at_end = 1;
    int e = sf_error(r->sf);
    char why[256];
    /* a decoder that loses sync where the bytes run out (a FLAC cut inside a frame) met the
     * end of a truncated file, not damage inside it */
    bool cut = e != SF_ERR_NO_ERROR && r->pos >= r->src.size && r->info.frames > r->frame;
    if (e != SF_ERR_NO_ERROR && !cut)
        return BL_ERROR(BL_ERR_DECODE, "%s: decode error after frame %lld of %lld "
                        "(libsndfile: %s)", r->name, (long long)r->frame,
                        (long long)r->info.frames, sf_reason(r->sf, why, sizeof why));
    char msg[400];
    msg[0] = '\0';
    if (cut)
        snprintf(msg, sizeof msg, "truncated: the file ends inside the audio (%s) at frame %lld (%.3f s) but the "
                 "header says %lld frames (%.3f s)", sf_reason(r->sf, why, sizeof why), (long long)r->frame,
                 (double)r->frame / r->info.sample_rate, (long long)r->info.frames,
                 (double)r->info.frames / r->info.sample_rate);
    else if (r->info.frames >= 0 && r->frame < r->info.frames)
        snprintf(msg, sizeof msg, "truncated: the audio stops at frame %lld (%.3f s) but the header says %lld "
                 "frames (%.3f s)", (long long)r->frame, (double)r->frame / r->info.sample_rate,
                 (long long)r->info.frames, (double)r->info.frames / r->info.sample_rate);
    else if (r->truncated_note[0])
        snprintf(msg, sizeof msg, "truncated: the data ends before its header says (%s), after %lld frames "
                 "(%.3f s)", r->truncated_note, (long long)r->frame, (double)r->frame / r->info.sample_rate);
    if (msg[0] && !r->trunc_msg) {
        r->trunc_msg = strdup(msg);
        BL_LOG_D("%s: %s", r->name, msg);
    }
    return BL_OK;
}

/* ---- stream ------------------------------------------------------------------------- */

struct bl_audio_stream {
    bl_audio_reader *r;
    bl_resampler *rs;  /* NULL when the file is already at the output rate */
    int out_rate, channels;
    size_t block;      /* frames per block of bl_audio_stream_next (its planar stride) */
    size_t chunk;      /* input frames per decode call into `in` */
    float *in;         /* chunk * channels, interleaved decoder output */
    size_t in_off, in_n; /* at the file's rate: frames [in_off, in_n) of `in` not handed out */
    float *acc;        /* acc_cap * channels, resampled output not yet handed out */
    size_t acc_n, acc_cap;
    float *planar;     /* channels * block for bl_audio_stream_next, allocated on first use */
    int64_t remaining; /* output frames left in the window; -1 = to the end */
    int64_t expected;  /* output frames of an intact file, -1 when not known up front */
    int in_eof, flushed;
};

void bl_audio_stream_close(bl_audio_stream *s) {
    if (!s) return;
    bl_audio_close(s->r);
    bl_resampler_destroy(s->rs);
    free(s->in);
    free(s->acc);
    free(s->planar);
    free(s);
}

bl_status bl_audio_stream_open_reader(bl_audio_reader *r, const bl_audio_stream_opts *opts,
                                      bl_audio_stream **out) {
    if (out) *out = NULL;
    if (!r || !out) {
        bl_audio_close(r);
        return BL_ERROR(BL_ERR_INVALID_ARG, "bl_audio_stream_open_reader: NULL argument");
    }
    bl_audio_stream_opts o = {0, 0.0, 0.0, 0};
    if (opts) o = *opts;
    const bl_audio_info *info = &r->info;
    bl_status st = BL_OK;
    if (o.target_rate < 0 || o.target_rate > BL_AUDIO_MAX_RATE)
        st = BL_ERROR(BL_ERR_INVALID_ARG, "%s: target sample rate %d Hz is out of range "
                      "(1..%d, or 0 to keep the file's rate)", r->name, o.target_rate,
                      BL_AUDIO_MAX_RATE);
    else if (!(o.start_s >= 0.0) || !isfinite(o.start_s) || isnan(o.duration_s))
        st = BL_ERROR(BL_ERR_INVALID_ARG, "%s: invalid window (start %g s, duration %g s)",
                      r->name, o.start_s, o.duration_s);
    if (st != BL_OK) {
        bl_audio_close(r);
        return st;
    }
    bl_audio_stream *s = calloc(1, sizeof *s);
    if (!s) {
        st = BL_ERROR(BL_ERR_NOMEM, "%s: out of memory opening stream", r->name);
        bl_audio_close(r);
        return st;
    }
    s->r = r;
    s->channels = info->channels;
    s->out_rate = o.target_rate ? o.target_rate : info->sample_rate;
    s->block = o.block_frames ? o.block_frames : 65536;
    s->remaining = -1;
    if (o.duration_s > 0) {
        double d = o.duration_s * (double)s->out_rate;
        s->remaining = d >= 9e18 ? INT64_MAX : (int64_t)llround(d);
    }

    double start = floor(o.start_s * (double)info->sample_rate);
    if (start >= 9e18 || (info->frames >= 0 && start > (double)info->frames)) {
        bl_error_set(BL_ERR_RANGE, __FILE__, __LINE__, "%s: window start %.3f s is past the "
                     "end of the file (%.3f s)", r->name, o.start_s,
                     (double)info->frames / info->sample_rate);
        bl_audio_stream_close(s);
        return BL_ERR_RANGE;
    }
    size_t ch = (size_t)s->channels;
    s->chunk = BL_STREAM_CHUNK_SAMPLES / ch;
    if (s->chunk > BL_STREAM_CHUNK_FRAMES) s->chunk = BL_STREAM_CHUNK_FRAMES;
    if (s->chunk < 1) s->chunk = 1;
    size_t chunk_out = s->chunk;
    if (s->out_rate != info->sample_rate) {
        double ratio = (double)s->out_rate / info->sample_rate;
        double max_in = BL_STREAM_CHUNK_OUT_SAMPLES / (ratio * (double)ch);
        if ((double)s->chunk > max_in) s->chunk = max_in < 1 ? 1 : (size_t)max_in;
        if ((st = bl_resampler_create(info->sample_rate, s->out_rate, s->channels, &s->rs)) !=
            BL_OK) {
            bl_error_prefix("%s: ", r->name);
            bl_audio_stream_close(s);
            return st;
        }
        chunk_out = bl_resampler_max_out(s->rs, s->chunk);
    }
    s->acc_cap = s->block + chunk_out;
    if (s->block > SIZE_MAX / 4 / ch / sizeof(float) ||
        s->acc_cap > SIZE_MAX / 4 / ch / sizeof(float)) {
        bl_error_set(BL_ERR_INVALID_ARG, __FILE__, __LINE__, "%s: block of %zu frames is too "
                     "large", r->name, s->block);
        bl_audio_stream_close(s);
        return BL_ERR_INVALID_ARG;
    }
    s->in = malloc(s->chunk * ch * sizeof(float));
    if (s->rs) s->acc = malloc(s->acc_cap * ch * sizeof(float));
    if (!s->in || (!s->acc && s->rs)) {
        bl_error_set(BL_ERR_NOMEM, __FILE__, __LINE__, "%s: out of memory for blocks of %zu "
                     "frames x %zu channels", r->name, s->block, ch);
        bl_audio_stream_close(s);
        return BL_ERR_NOMEM;
    }
    /* The length, when the header tells it and seeking is exact (so the frame count is
     * too): what is left after the start, resampled (soxr's flushed output is
     * round(in * out_rate / in_rate) frames), cut to the window. A hint for callers that
     * lay out their output ahead; a file that turns out shorter simply yields less. */
    s->expected = -1;
    if (info->frames >= 0 && r->exact_seek && !r->truncated_note[0]) {
        double in = (double)info->frames - start;
        double e = s->rs ? floor(in * s->out_rate / info->sample_rate + 0.5) : in;
        s->expected = e >= 9e18 ? -1 : (int64_t)e;
        if (s->expected >= 0 && s->remaining >= 0 && s->remaining < s->expected)
            s->expected = s->remaining;
    }
    /* last: for Ogg and MP3 the seek decodes up to the start, wasted if a step above failed */
    if (start > 0 && (st = bl_audio_seek(r, (int64_t)start)) != BL_OK) {
        bl_audio_stream_close(s);
        return st;
    }
    *out = s;
    return BL_OK;
}

bl_status bl_audio_stream_open(const char *path, const bl_audio_stream_opts *opts,
                               bl_audio_stream **out) {
    if (out) *out = NULL;
    bl_audio_reader *r = NULL;
    BL_TRY(bl_audio_open(path, &r));
    return bl_audio_stream_open_reader(r, opts, out);
}

const bl_audio_info *bl_audio_stream_info(const bl_audio_stream *s) { return &s->r->info; }
int bl_audio_stream_rate(const bl_audio_stream *s) { return s->out_rate; }
int bl_audio_stream_channels(const bl_audio_stream *s) { return s->channels; }
size_t bl_audio_stream_stride(const bl_audio_stream *s) { return s->block; }
const bl_audio_reader *bl_audio_stream_reader(const bl_audio_stream *s) { return s->r; }
int64_t bl_audio_stream_expected_frames(const bl_audio_stream *s) { return s->expected; }

/* Top up s->acc with at least `want` resampled frames, or everything left. */
static bl_status stream_fill(bl_audio_stream *s, size_t want) {
    size_t ch = (size_t)s->channels;
    while (s->acc_n < want) {
        size_t got = 0;
        if (!s->in_eof) {
            BL_TRY(bl_audio_read(s->r, s->in, s->chunk, &got));
            if (got == 0) {
                s->in_eof = 1;
                continue;
            }
            size_t made = 0;
            bl_status st = bl_resampler_process(s->rs, s->in, got, 0, s->acc + s->acc_n * ch,
                                                s->acc_cap - s->acc_n, &made);
            if (st != BL_OK) {
                bl_error_prefix("%s: ", s->r->name);
                return st;
            }
            s->acc_n += made;
        } else if (!s->flushed) {
            size_t made = 0;
            bl_status st = bl_resampler_process(s->rs, NULL, 0, 1, s->acc + s->acc_n * ch,
                                                s->acc_cap - s->acc_n, &made);
            if (st != BL_OK) {
                bl_error_prefix("%s: ", s->r->name);
                return st;
            }
            s->acc_n += made;
            if (made == 0) s->flushed = 1;
        } else {
            break;
        }
    }
    return BL_OK;
}

/* Frames [0, n) of interleaved src to planar dst at frame offset `at`. */
static void deinterleave(const float *src, size_t n, size_t ch, float *dst, size_t stride,
                         size_t at) {
    if (ch == 1) {
        memcpy(dst + at, src, n * sizeof(float));
    } else if (ch == 2) {
        float *d0 = dst + at, *d1 = dst + stride + at;
        for (size_t i = 0; i < n; i++) {
            d0[i] = src[2 * i];
            d1[i] = src[2 * i + 1];
        }
    } else {
        for (size_t c = 0; c < ch; c++) {
            float *d = dst + c * stride + at;
            const float *p = src + c;
            for (size_t i = 0; i < n; i++) d[i] = p[i * ch];
        }
    }
}

bl_status bl_audio_stream_read(bl_audio_stream *s, float *planar, size_t stride,
                               size_t max_frames, size_t *n) {
    *n = 0;
    size_t want = max_frames;
    if (s->remaining >= 0 && (uint64_t)s->remaining < want) want = (size_t)s->remaining;
    if (want == 0) return BL_OK;
    size_t ch = (size_t)s->channels, k = 0;
    BL_RETURN_IF(!planar || (ch > 1 && stride < want), BL_ERR_INVALID_ARG,
                 "%s: stream read into %p with stride %zu for %zu frames", s->r->name,
                 (void *)planar, stride, want);
    if (!s->rs) {
        /* At the file's rate. Decoders (FLAC, Vorbis, MP3) are always called for exactly
         * `chunk` frames, whatever is asked here: how a damaged file ends (clean end or
         * decode error) may depend on the read sizes, and must not depend on block sizes.
         * Mono reads land straight in the caller's buffer when a whole chunk fits there
         * (or at any size for raw PCM, which has no decoder state); the rest goes through
         * `in`, whose unread frames wait for the next call. */
        while (k < want) {
            if (s->in_off < s->in_n) {
                size_t t = s->in_n - s->in_off < want - k ? s->in_n - s->in_off : want - k;
                deinterleave(s->in + s->in_off * ch, t, ch, planar, stride, k);
                s->in_off += t;
                k += t;
                continue;
            }
            size_t got = 0;
            if (ch == 1 && (s->r->raw_width || want - k >= s->chunk)) {
                BL_TRY(bl_audio_read(s->r, planar + k,
                                     s->r->raw_width ? want - k : s->chunk, &got));
                k += got;
            } else {
                BL_TRY(bl_audio_read(s->r, s->in, s->chunk, &got));
                s->in_off = 0;
                s->in_n = got;
            }
            if (got == 0) break;
        }
    } else {
        /* acc holds at most block + one chunk's output: hand out at most a block per fill */
        while (k < want) {
            size_t need = want - k < s->block ? want - k : s->block;
            BL_TRY(stream_fill(s, need));
            size_t t = s->acc_n < need ? s->acc_n : need;
            if (t == 0) break;
            deinterleave(s->acc, t, ch, planar, stride, k);
            memmove(s->acc, s->acc + t * ch, (s->acc_n - t) * ch * sizeof(float));
            s->acc_n -= t;
            k += t;
        }
    }
    if (s->remaining > 0) s->remaining -= (int64_t)k;
    *n = k;
    return BL_OK;
}

bl_status bl_audio_stream_next(bl_audio_stream *s, const float **planar, size_t *n) {
    *planar = NULL;
    *n = 0;
    if (!s->planar) {
        s->planar = malloc(s->block * (size_t)s->channels * sizeof(float));
        BL_RETURN_IF(!s->planar, BL_ERR_NOMEM, "%s: out of memory for blocks of %zu frames x "
                     "%d channels", s->r->name, s->block, s->channels);
    }
    *planar = s->planar;
    return bl_audio_stream_read(s, s->planar, s->block, s->block, n);
}

/* ---- libmpg123's printouts ------------------------------------------------------------- */

/* libsndfile decodes MP3 through libmpg123 without its MPG123_QUIET flag, so a damaged MP3
 * makes libmpg123 print "Note: Illegal Audio-MPEG-Header ..." and "Warning: Xing stream
 * size off ..." straight to stderr, past baleen's own messages (the decode error that
 * follows, if any, is reported through errors.csv as usual). The `baleen` executable exports
 * this mpg123_new (CMakeLists.txt: --export-dynamic-symbol), which libsndfile's call binds
 * to: it creates the handle with the real one and sets MPG123_QUIET on it. Nothing else of
 * libmpg123 changes. The numbers are libmpg123's stable ABI (mpg123.h: MPG123_ADD_FLAGS is
 * the third enum mpg123_parms value, MPG123_QUIET the flag 0x20). */
#include <dlfcn.h>   /* dlsym(RTLD_NEXT): the real libmpg123 functions */
#include <pthread.h> /* pthread_once: look them up once */

typedef struct mpg123_handle_struct mpg123_handle;
mpg123_handle *mpg123_new(const char *decoder, int *error);

static mpg123_handle *(*g_mpg123_new)(const char *, int *);
static int (*g_mpg123_param2)(mpg123_handle *, int, long, double);
static pthread_once_t g_mpg123_once = PTHREAD_ONCE_INIT;

static void mpg123_lookup(void) {
    *(void **)&g_mpg123_new = dlsym(RTLD_NEXT, "mpg123_new");
    *(void **)&g_mpg123_param2 = dlsym(RTLD_NEXT, "mpg123_param2");
}

mpg123_handle *mpg123_new(const char *decoder, int *error) {
    pthread_once(&g_mpg123_once, mpg123_lookup);
    if (!g_mpg123_new) {
        if (error) *error = -1; /* MPG123_ERR */
        return NULL;
    }
    mpg123_handle *h = g_mpg123_new(decoder, error);
    if (h && g_mpg123_param2) g_mpg123_param2(h, 2 /* MPG123_ADD_FLAGS */, 0x20 /* MPG123_QUIET */, 0.0);
    return h;
}
