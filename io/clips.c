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
#include <stdio.h>    /* snprintf */
#include <stdlib.h>   /* malloc, qsort */
#include <string.h>   /* strlen, strcmp */
#include <strings.h>  /* strcasecmp */
#include <sys/stat.h> /* mkdir */
#include <unistd.h>   /* fsync, close, unlink */

#include "outfile.h"  /* each clip: temporary + rename */
#include "outnames.h" /* <index>_<stem> of the source, safe label characters */
#include "sources.h"  /* bl_time_format_compact for UTC names */

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

/* "<index>_<stem>_[chN_]<time>_<labels>.flac" (clips.h), malloc'ed into *out. */
static bl_status clip_name(const bl_clip_opts *o, int file_rate, int channels, int64_t frame, const span *sp,
                           size_t count, const bl_clip_event *ev, char **out) {
    int64_t ms = rescale(frame, 1000, file_rate, false);
    char when[96];
    if (o->has_utc) {
        char t[48];
        bl_time_format_compact(o->utc_start_ms + ms, t, sizeof t);
        if (channels > 1) snprintf(when, sizeof when, "ch%d_%s", o->channel, t);
        else snprintf(when, sizeof when, "%s", t);
    } else {
        snprintf(when, sizeof when, "ch%d_%06lld.%03llds", o->channel, (long long)(ms / 1000),
                 (long long)(ms % 1000));
    }
    /* labels: each class once, in order of first appearance, at most ~100 bytes in all (the
     * name is unique without them: they are there to be read) */
    char labels[104];
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
        bl_outname_clean(labels, sizeof labels, &ll, lab, 60);
    }
    char *src = bl_outname_source(o->source_index, o->source_key);
    BL_CHECK_ALLOC(src);
    size_t cap = strlen(src) + strlen(when) + ll + 32;
    *out = malloc(cap);
    if (*out) snprintf(*out, cap, "clips/%s_%s_%s.flac", src, when, labels);
    free(src);
    BL_CHECK_ALLOC(*out);
    return BL_OK;
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

/* Copy frames [c->s, c->e) of channel o->channel from r into the FLAC clip at `rel` (under
 * o->out_dir; written through io/outfile.h, so a crash never leaves half a clip under its
 * name). *source_side tells a failure to read the source (the clip is skipped, the item goes
 * on) from a failure to write the clip (the output is in trouble: the run stops). */
static bl_status write_clip(const bl_clip_opts *o, bl_audio_reader *r, const clip *c, const char *rel,
                            bool bits24, float *buf, int *ibuf, bool *source_side) {
    const bl_audio_info *info = bl_audio_get_info(r);
    *source_side = true;
    BL_TRY(bl_audio_seek(r, c->s));
    *source_side = false;
    size_t pl = strlen(o->out_dir) + strlen(rel) + 2;
    char *path = malloc(pl);
    BL_CHECK_ALLOC(path);
    snprintf(path, pl, "%s/%s", o->out_dir, rel);
    bl_outfile *of = NULL;
    bl_status s = bl_outfile_open(path, BL_OUTFILE_SEEKABLE, &of);
    free(path);
    BL_TRY(s);
    SF_INFO si;
    memset(&si, 0, sizeof si);
    si.samplerate = info->sample_rate;
    si.channels = 1;
    si.format = SF_FORMAT_FLAC | (bits24 ? SF_FORMAT_PCM_24 : SF_FORMAT_PCM_16);
    errno = 0;
    SNDFILE *sf = sf_open_fd(bl_outfile_fd(of), SFM_WRITE, &si, 0);
    if (!sf) {
        s = io_error("cannot create clip", bl_outfile_name(of));
        bl_error_prefix("%s: ", sf_strerror(NULL));
        bl_outfile_discard(of);
        return s;
    }
    const int ch = info->channels;
    const double scale = bits24 ? 8388608.0 : 32768.0;
    const long lo = bits24 ? -8388608 : -32768, hi = bits24 ? 8388607 : 32767;
    const int shift = bits24 ? 8 : 16;
    int64_t left = c->e - c->s;
    while (left > 0) {
        size_t want = left < CLIP_BLOCK ? (size_t)left : CLIP_BLOCK, got = 0;
        s = bl_audio_read(r, buf, want, &got);
        if (s != BL_OK) *source_side = true;
        if (s != BL_OK || got == 0) break; /* the file ended early (length unknown / truncated) */
        for (size_t i = 0; i < got; i++) {
            float x = buf[i * (size_t)ch + (size_t)o->channel];
            long v = isfinite(x) ? lrint(x * scale) : 0; /* NaN/Inf samples (input.non_finite: zero) */
            if (v < lo) v = lo;
            if (v > hi) v = hi;
            ibuf[i] = (int)((unsigned)v << shift); /* libsndfile's int is left-justified */
        }
        errno = 0;
        if (sf_writef_int(sf, ibuf, (sf_count_t)got) != (sf_count_t)got) {
            s = io_error("cannot write clip", bl_outfile_name(of));
            break;
        }
        left -= (int64_t)got;
    }
    errno = 0;
    if (sf_close(sf) != 0 && s == BL_OK) s = io_error("cannot finish clip", bl_outfile_name(of));
    if (s != BL_OK) {
        bl_outfile_discard(of);
        return s;
    }
    return bl_outfile_commit(of);
}

bl_status bl_clips_write(const bl_clip_opts *o, const bl_clip_event *ev, size_t n, char **paths, char **warning) {
    BL_RETURN_IF(!o || !o->out_dir || (n && (!ev || !paths)), BL_ERR_INVALID_ARG,
                 "bl_clips_write: NULL argument");
    for (size_t i = 0; i < n; i++) paths[i] = NULL;
    if (n == 0) return BL_OK;
    BL_RETURN_IF(o->frontend_rate <= 0 || o->channel < 0 || !(o->pad_seconds >= 0) ||
                     (!o->reader && !o->source_path),
                 BL_ERR_INVALID_ARG, "bl_clips_write: bad options (rate %d, channel %d, pad %g)",
                 o->frontend_rate, o->channel, o->pad_seconds);
    if (warning) *warning = NULL;
    bl_audio_reader *r = o->reader;
    if (!r && bl_audio_open(o->source_path, &r) != BL_OK) { /* the source, not the output: a warning */
        char *w = malloc(strlen(bl_error_message()) + 64);
        if (w) sprintf(w, "%zu clip(s) not cut: %s", n, bl_error_message());
        if (warning) *warning = w;
        else free(w);
        return BL_OK;
    }
    const bl_audio_info *info = bl_audio_get_info(r);
    const char *src_name = o->source_path ? o->source_path : bl_audio_path(r);
    bl_status s = BL_OK;
    span *sp = malloc(n * sizeof *sp);
    clip *cl = malloc(n * sizeof *cl);
    float *buf = malloc((size_t)CLIP_BLOCK * (size_t)info->channels * sizeof *buf);
    int *ibuf = malloc(CLIP_BLOCK * sizeof *ibuf);
    size_t dl = strlen(o->out_dir);
    char *dir = malloc(dl + 8), *first_err = NULL;
    size_t nc = 0;
    if (!sp || !cl || !buf || !ibuf || !dir) {
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
    size_t n_skipped = 0;
    char *prev = NULL;
    for (size_t k = 0; k < nc && s == BL_OK; k++) {
        char *rel = NULL;
        s = clip_name(o, rate, info->channels, cl[k].s, sp + cl[k].first, cl[k].count, ev, &rel);
        if (s != BL_OK) break;
        if (prev && !strcmp(prev, rel)) { /* two clips within one millisecond: keep both */
            size_t rl = strlen(rel);
            char *alt = malloc(rl + 24);
            if (alt) snprintf(alt, rl + 24, "%.*s_%zu.flac", (int)(rl - 5), rel, k);
            free(rel);
            rel = alt;
            if (!rel) {
                s = BL_ERROR(BL_ERR_NOMEM, "out of memory for clip names");
                break;
            }
        }
        free(prev);
        prev = rel;
        bool source_side = false;
        s = write_clip(o, r, &cl[k], rel, bits24, buf, ibuf, &source_side);
        if (s != BL_OK && source_side) { /* this clip is skipped; the rows and the other clips stay */
            if (n_skipped++ == 0) {
                const char *m = bl_error_message();
                size_t cap = strlen(m) + strlen(rel) + 96;
                free(first_err);
                first_err = malloc(cap);
                if (first_err) snprintf(first_err, cap, "%s at %.3f s: %s", rel + 6, (double)cl[k].s / rate, m);
            }
            s = BL_OK;
            continue;
        }
        if (s != BL_OK) {
            bl_error_prefix("clip of %s at frame %lld: ", src_name, (long long)cl[k].s);
            break;
        }
        for (size_t j = 0; j < cl[k].count && s == BL_OK; j++) {
            char *p = strdup(rel);
            if (!p) s = BL_ERROR(BL_ERR_NOMEM, "out of memory for clip names");
            else paths[sp[cl[k].first + j].ev] = p;
        }
    }
    free(prev);
    if (s == BL_OK && n_skipped && warning) {
        size_t cap = (first_err ? strlen(first_err) : 0) + 96;
        *warning = malloc(cap);
        if (*warning) snprintf(*warning, cap, "%zu of %zu clip(s) not cut; first: %s", n_skipped, nc,
                               first_err ? first_err : "(no message)");
    }
done:
    if (s != BL_OK)
        for (size_t i = 0; i < n; i++) free(paths[i]), paths[i] = NULL;
    if (!o->reader) bl_audio_close(r);
    if (s != BL_OK && warning) free(*warning), *warning = NULL;
    free(sp), free(cl), free(buf), free(ibuf), free(dir), free(first_err);
    return s;
}
