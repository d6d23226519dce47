/* clips.c — FLAC snippets of events (clips.h): frame conversion, padding and merging,
 * names, and an atomic bounded-memory copy from the source file.
 *
 * Owns: per call, the sorted event spans, the merged clips and one read buffer; nothing
 * survives the call. Threading: no shared state (see clips.h).
 */
#include "clips.h"

#include <errno.h>    /* ENOSPC for messages */
#include <fcntl.h>    /* open for fsync */
#include <math.h>     /* lrint, llround */
#include <sndfile.h>  /* FLAC writing */
#include <stdio.h>    /* snprintf, rename */
#include <stdlib.h>   /* malloc, qsort */
#include <string.h>   /* strlen, strcmp */
#include <strings.h>  /* strcasecmp */
#include <sys/stat.h> /* mkdir */
#include <unistd.h>   /* fsync, close, unlink */

#include "sources.h" /* bl_time_format_compact for UTC names */

#define CLIP_BLOCK 16384 /* frames per read */

typedef struct {
    int64_t s, e;  /* padded span in file frames */
    size_t ev;     /* event index */
} span;

typedef struct {
    int64_t s, e;
    size_t first;  /* into the sorted spans */
    size_t count;
} clip;

static int cmp_span(const void *a, const void *b) {
    const span *x = a, *y = b;
    if (x->s != y->s) return x->s < y->s ? -1 : 1;
    if (x->e != y->e) return x->e < y->e ? -1 : 1;
    return (x->ev > y->ev) - (x->ev < y->ev);
}

/* v·num/den rounded down (up when `up`), without overflow for archive-sized values. */
static int64_t rescale(int64_t v, int64_t num, int64_t den, bool up) {
    __int128 p = (__int128)v * num;
    __int128 q = p / den, r = p % den;
    if (r != 0 && ((r > 0) == up)) q += up ? 1 : -1;
    return (int64_t)q;
}

static bool name_char_ok(char ch) {
    return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
           (ch && strchr("-_.+=@,", ch));
}

/* Append s sanitised to buf (at most max bytes of it). */
static void put_clean(char *buf, size_t cap, size_t *len, const char *s, size_t max) {
    for (size_t i = 0; s[i] && i < max && *len + 1 < cap; i++) buf[(*len)++] = name_char_ok(s[i]) ? s[i] : '_';
    buf[*len] = '\0';
}

static void clean_key(const char *key, char *out, size_t cap) {
    static const char *const ext[] = {".wav", ".flac", ".ogg", ".mp3", ".aif", ".aiff", ".w64", ".rf64"};
    for (;;) { /* leading separators and "./" say nothing about the source */
        if (*key == '/' || *key == '\\') key++;
        else if (key[0] == '.' && (key[1] == '/' || key[1] == '\\')) key += 2;
        else break;
    }
    size_t n = strlen(key);
    for (size_t i = 0; i < sizeof ext / sizeof *ext; i++) {
        size_t m = strlen(ext[i]);
        if (n > m && !strcasecmp(key + n - m, ext[i])) {
            n -= m;
            break;
        }
    }
    size_t len = 0;
    out[0] = '\0';
    char tmp[161];
    if (n > 160) n = 160; /* file names are limited to 255 bytes */
    memcpy(tmp, key, n);
    tmp[n] = '\0';
    put_clean(out, cap, &len, n ? tmp : "source", 160);
}

static void clip_name(const bl_clip_opts *o, int file_rate, int channels, int64_t frame, const span *sp,
                      size_t count, const bl_clip_event *ev, char *out, size_t cap) {
    char key[200];
    clean_key(o->source_key ? o->source_key : "", key, sizeof key);
    int64_t ms = rescale(frame, 1000, file_rate, false);
    char when[64];
    if (o->has_utc) {
        char t[48];
        bl_time_format_compact(o->utc_start_ms + ms, t, sizeof t);
        if (channels > 1) snprintf(when, sizeof when, "ch%d_%s", o->channel, t);
        else snprintf(when, sizeof when, "%s", t);
    } else {
        snprintf(when, sizeof when, "ch%d_%06lld.%03llds", o->channel, (long long)(ms / 1000),
                 (long long)(ms % 1000));
    }
    char labels[128];
    size_t ll = 0;
    labels[0] = '\0';
    for (size_t i = 0; i < count; i++) {
        const char *lab = ev[sp[i].ev].label ? ev[sp[i].ev].label : "event";
        bool seen = false;
        for (size_t j = 0; j < i && !seen; j++) {
            const char *o2 = ev[sp[j].ev].label ? ev[sp[j].ev].label : "event";
            seen = !strcmp(o2, lab);
        }
        if (seen) continue;
        if (ll && ll + 1 < sizeof labels) labels[ll++] = '+', labels[ll] = '\0';
        put_clean(labels, sizeof labels, &ll, lab, 60);
    }
    snprintf(out, cap, "clips/%s_%s_%s.flac", key, when, labels);
}

static bl_status io_error(const char *what, const char *path) {
    int e = errno;
    return BL_ERROR(e == ENOSPC || e == EDQUOT ? BL_ERR_NO_SPACE : BL_ERR_IO, "%s %s: %s", what, path,
                    e ? strerror(e) : "write failed");
}

static bool wide_source(const char *format) {
    return strstr(format, "PCM_24") || strstr(format, "PCM_32") || strstr(format, "FLOAT") ||
           strstr(format, "DOUBLE") || strstr(format, "ALAC_24") || strstr(format, "ALAC_32");
}

/* Copy frames [c->s, c->e) of channel o->channel from r into a FLAC file at tmp. */
static bl_status write_clip(const bl_clip_opts *o, bl_audio_reader *r, const clip *c, const char *tmp,
                            bool bits24, float *buf, int *ibuf) {
    const bl_audio_info *info = bl_audio_get_info(r);
    BL_TRY(bl_audio_seek(r, c->s));
    SF_INFO si;
    memset(&si, 0, sizeof si);
    si.samplerate = info->sample_rate;
    si.channels = 1;
    si.format = SF_FORMAT_FLAC | (bits24 ? SF_FORMAT_PCM_24 : SF_FORMAT_PCM_16);
    errno = 0;
    SNDFILE *sf = sf_open(tmp, SFM_WRITE, &si);
    if (!sf) {
        bl_status s = io_error("cannot create clip", tmp);
        bl_error_prefix("%s: ", sf_strerror(NULL));
        return s;
    }
    const int ch = info->channels;
    const double scale = bits24 ? 8388608.0 : 32768.0;
    const long lo = bits24 ? -8388608 : -32768, hi = bits24 ? 8388607 : 32767;
    const int shift = bits24 ? 8 : 16;
    int64_t left = c->e - c->s;
    bl_status s = BL_OK;
    while (left > 0) {
        size_t want = left < CLIP_BLOCK ? (size_t)left : CLIP_BLOCK, got = 0;
        s = bl_audio_read(r, buf, want, &got);
        if (s != BL_OK || got == 0) break; /* the file ended early (length unknown / truncated) */
        for (size_t i = 0; i < got; i++) {
            long v = lrint(buf[i * (size_t)ch + (size_t)o->channel] * scale);
            if (v < lo) v = lo;
            if (v > hi) v = hi;
            ibuf[i] = (int)((unsigned)v << shift); /* libsndfile's int is left-justified */
        }
        errno = 0;
        if (sf_writef_int(sf, ibuf, (sf_count_t)got) != (sf_count_t)got) {
            s = io_error("cannot write clip", tmp);
            break;
        }
        left -= (int64_t)got;
    }
    errno = 0;
    if (sf_close(sf) != 0 && s == BL_OK) s = io_error("cannot finish clip", tmp);
    if (s == BL_OK) {
        int fd = open(tmp, O_RDONLY);
        if (fd < 0 || fsync(fd) != 0) s = io_error("cannot sync clip", tmp);
        if (fd >= 0) close(fd);
    }
    return s;
}

bl_status bl_clips_write(const bl_clip_opts *o, const bl_clip_event *ev, size_t n, char **paths) {
    BL_RETURN_IF(!o || !o->out_dir || (n && (!ev || !paths)), BL_ERR_INVALID_ARG,
                 "bl_clips_write: NULL argument");
    for (size_t i = 0; i < n; i++) paths[i] = NULL;
    if (n == 0) return BL_OK;
    BL_RETURN_IF(o->frontend_rate <= 0 || o->channel < 0 || !(o->pad_seconds >= 0) ||
                     (!o->reader && !o->source_path),
                 BL_ERR_INVALID_ARG, "bl_clips_write: bad options (rate %d, channel %d, pad %g)",
                 o->frontend_rate, o->channel, o->pad_seconds);
    bl_audio_reader *r = o->reader;
    if (!r) BL_TRY(bl_audio_open(o->source_path, &r));
    const bl_audio_info *info = bl_audio_get_info(r);
    const char *src_name = o->source_path ? o->source_path : bl_audio_path(r);
    bl_status s = BL_OK;
    span *sp = malloc(n * sizeof *sp);
    clip *cl = malloc(n * sizeof *cl);
    float *buf = malloc((size_t)CLIP_BLOCK * (size_t)info->channels * sizeof *buf);
    int *ibuf = malloc(CLIP_BLOCK * sizeof *ibuf);
    size_t dl = strlen(o->out_dir);
    char *dir = malloc(dl + 8), *fin = malloc(dl + 512), *tmp = malloc(dl + 512);
    size_t nc = 0;
    if (!sp || !cl || !buf || !ibuf || !dir || !fin || !tmp) {
        s = BL_ERROR(BL_ERR_NOMEM, "out of memory writing clips of %s", src_name);
        goto done;
    }
    if (o->channel >= info->channels) {
        s = BL_ERROR(BL_ERR_INVALID_ARG, "clips: %s has %d channel(s), no channel %d", src_name,
                     info->channels, o->channel);
        goto done;
    }
    const int rate = info->sample_rate;
    const int64_t pad = llround(o->pad_seconds * rate);
    const int64_t frames = info->frames; /* -1: unknown, the copy stops at the end */
    size_t ns = 0;
    for (size_t i = 0; i < n; i++) {
        int64_t a = rescale(ev[i].start_sample, rate, o->frontend_rate, false);
        int64_t b = rescale(ev[i].end_sample, rate, o->frontend_rate, true);
        if (b <= a) b = a + 1;
        a -= pad;
        b += pad;
        if (a < 0) a = 0;
        if (frames >= 0 && b > frames) b = frames;
        if (b <= a) continue; /* wholly outside the file */
        sp[ns++] = (span){a, b, i};
    }
    qsort(sp, ns, sizeof *sp, cmp_span);
    for (size_t i = 0; i < ns; i++) {
        if (nc && sp[i].s <= cl[nc - 1].e) {
            if (sp[i].e > cl[nc - 1].e) cl[nc - 1].e = sp[i].e;
            cl[nc - 1].count++;
        } else {
            cl[nc++] = (clip){sp[i].s, sp[i].e, i, 1};
        }
    }
    snprintf(dir, dl + 8, "%s/clips", o->out_dir);
    if (nc && mkdir(dir, 0777) != 0 && errno != EEXIST) {
        s = io_error("cannot create the clips folder", dir);
        goto done;
    }
    const bool bits24 = wide_source(info->format);
    for (size_t k = 0; k < nc && s == BL_OK; k++) {
        char rel[448];
        clip_name(o, rate, info->channels, cl[k].s, sp + cl[k].first, cl[k].count, ev, rel, sizeof rel);
        snprintf(fin, dl + 512, "%s/%s", o->out_dir, rel);
        snprintf(tmp, dl + 512, "%s/clips/.%s.tmp", o->out_dir, rel + 6);
        s = write_clip(o, r, &cl[k], tmp, bits24, buf, ibuf);
        if (s == BL_OK && rename(tmp, fin) != 0) s = io_error("cannot rename clip to", fin);
        if (s != BL_OK) {
            unlink(tmp);
            bl_error_prefix("clip of %s at frame %lld: ", src_name, (long long)cl[k].s);
            break;
        }
        for (size_t j = 0; j < cl[k].count && s == BL_OK; j++) {
            char *p = strdup(rel);
            if (!p) s = BL_ERROR(BL_ERR_NOMEM, "out of memory for clip names");
            else paths[sp[cl[k].first + j].ev] = p;
        }
    }
    if (s == BL_OK && nc) {
        int fd = open(dir, O_RDONLY | O_DIRECTORY);
        if (fd >= 0) {
            if (fsync(fd) != 0) s = io_error("cannot sync", dir);
            close(fd);
        }
    }
done:
    if (s != BL_OK)
        for (size_t i = 0; i < n; i++) free(paths[i]), paths[i] = NULL;
    if (!o->reader) bl_audio_close(r);
    free(sp), free(cl), free(buf), free(ibuf), free(dir), free(fin), free(tmp);
    return s;
}
