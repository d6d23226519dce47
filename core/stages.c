/* stages.c — the reader stage of `baleen run` (pipeline.h, pipeline_impl.h); the model stage is
 * core/stage_model.c.
 *
 * Reader s (one thread per file in flight) handles files s, s+F, s+2F, ... in plan order:
 * bl_audio_stream (decode, resample to the front end's rate, split channels) → one
 * bl_fe_stream per channel → model windows, cut from each channel's frames at multiples of
 * hop_frames, transposed to the model's [n_mels][window_frames] layout and packed, channels
 * interleaved window by window (window k of channel 0, of channel 1, ..., then window k+1),
 * into packets drawn from the slot's pool. Each channel keeps only the frames its next
 * window needs (the overlap carry), so memory does not grow with the file.
 * With persist.features each channel's frames also go to its work item's .npy through
 * bl_feat_writer (the layout and bytes of `baleen features`).
 *
 * Threading: each function runs on its own stage thread; shared state is in bl_run_ctx.
 */
#include <dirent.h>  /* opendir: leftover feature temporaries */
#include <errno.h>   /* errno of mkdir features/, remove */
#include <math.h>    /* floor, llround for offsets */
#include <sys/stat.h> /* mkdir for features/ */
#include <stdio.h>   /* snprintf, remove */
#include <stdlib.h>  /* malloc, free */
#include <string.h>  /* memcpy, memset, memmove */

#include "features_job.h"  /* bl_feat_writer: persist.features files */
#include "io/audio.h"       /* bl_audio_stream */
#include "io/outnames.h"    /* <index>_<stem> names of persisted features */
#include "log.h"            /* BL_LOG_D */
#include "pipeline_impl.h"  /* bl_run_ctx, packets, stage entry points */

/* ---- reader ---------------------------------------------------------------------------- */

typedef struct {
    bl_fe_stream *st;
    float *frames;     /* held frames, [frame][n_mels] */
    size_t n_held, cap;
    int64_t base;      /* index of frames[0] in the channel's frame sequence */
    int64_t total;     /* frames emitted so far */
    bool skip;         /* item already done (--resume): decoded but not windowed */
    bl_feat_writer *feat; /* persist.features: this item's .npy being written */
    bool feat_err;        /* writing it failed (an output failure, not the input's) */
    char *feat_path;      /* its final name (NULL until opened) */
} reader_chan;

/* ---- persist.features: OUT/features/<NNNNN_stem>.ch<C>.npy, [1, n_mels, frames] float32 -- */

/* The same layout and bytes as `baleen features` on the same window of the source, through the
 * same writer (bl_feat_writer: laid out in place when the frame count is known, spilled and
 * assembled otherwise; bounded memory). One file per work item, so that --resume, which
 * skips committed items channel by channel, redoes exactly the files of the items it redoes.
 * The writer's temporary is unnamed (O_TMPFILE) or a mkstemp name next to the output, made
 * visible by rename only once complete; an item is committed only after its file is renamed
 * (END follows feat_close), so a committed item always has its complete file. */
static bl_status feat_open(bl_run_ctx *c, reader_chan *ch, size_t input, int channel, int64_t expected_frames) {
    const char *out = c->cfg->output.dir;
    char *name = bl_outname_source((int64_t)input, c->plan.inputs[input].key);
    BL_CHECK_ALLOC(name);
    size_t cap = strlen(out) + strlen(name) + 48;
    char *dir = malloc(cap);
    free(ch->feat_path);
    ch->feat_path = malloc(cap);
    if (!dir || !ch->feat_path) {
        free(dir);
        free(name);
        return BL_ERROR(BL_ERR_NOMEM, "out of memory");
    }
    bl_status s = BL_OK;
    snprintf(dir, cap, "%s/features", out);
    snprintf(ch->feat_path, cap, "%s/%s.ch%d.npy", dir, name, channel);
    if (mkdir(dir, 0755) != 0 && errno != EEXIST) s = BL_ERROR(BL_ERR_IO, "cannot create %s: %s", dir, strerror(errno));
    free(dir);
    free(name);
    BL_TRY(s);
    return bl_feat_writer_open(ch->feat_path, 1, c->n_mels, expected_frames, &ch->feat);
}

/* Does `name` look like a named temporary of bl_feat_writer's output (io/outfile.h:
 * "<x>.npy.tmp-XXXXXX") or of earlier versions ("<x>.npy.tmp.XXXXXX", "<x>.npy.spill.XXXXXX",
 * ".<x>.npy.tmp")? */
static bool feat_temp_name(const char *name) {
    const char *tags[3] = {".npy.tmp-", ".npy.tmp.", ".npy.spill."};
    for (int i = 0; i < 3; i++) {
        const char *p = strstr(name, tags[i]);
        if (p && p != name && strlen(p + strlen(tags[i])) == 6) return true;
    }
    size_t n = strlen(name);
    return name[0] == '.' && n > 9 && !strcmp(name + n - 8, ".npy.tmp");
}

bl_status bl_run_features_sweep(const bl_run_ctx *c) {
    size_t dl = strlen(c->cfg->output.dir) + 16;
    char *dir = malloc(dl);
    BL_CHECK_ALLOC(dir);
    snprintf(dir, dl, "%s/features", c->cfg->output.dir);
    DIR *d = opendir(dir);
    if (!d) { /* none yet */
        free(dir);
        return BL_OK;
    }
    bl_status s = BL_OK;
    struct dirent *e;
    while (s == BL_OK && (e = readdir(d)) != NULL) {
        if (!feat_temp_name(e->d_name)) continue;
        size_t pl = dl + strlen(e->d_name) + 2;
        char *path = malloc(pl);
        if (!path) {
            s = BL_ERROR(BL_ERR_NOMEM, "out of memory");
            break;
        }
        snprintf(path, pl, "%s/%s", dir, e->d_name);
        if (remove(path) != 0 && errno != ENOENT)
            s = BL_ERROR(BL_ERR_IO, "cannot remove the leftover %s: %s", path, strerror(errno));
        else BL_LOG_D("run: removed the leftover %s", path);
        free(path);
    }
    closedir(d);
    free(dir);
    return s;
}

/* Complete the file (keep) or drop the unfinished one. */
static bl_status feat_close(reader_chan *ch, bool keep) {
    if (!ch->feat) return BL_OK;
    bl_status s = keep ? bl_feat_writer_finish(ch->feat, NULL) : BL_OK;
    bl_feat_writer_destroy(ch->feat); /* removes the temporary unless finished */
    ch->feat = NULL;
    return s;
}

typedef struct {
    bl_run_ctx *c;
    bl_slot *slot;
    size_t file;
    bl_packet *pk;     /* packet being filled, or NULL */
    int64_t next_win;  /* index of the next window to emit (same for every channel) */
} reader_state;

static void fail_packet(bl_packet *pk, size_t file, bl_status st, const char *stage, const char *path) {
    pk->type = BL_PK_FAIL;
    pk->status = st;
    pk->file = file;
    pk->n = 0;
    snprintf(pk->stage, sizeof pk->stage, "%s", stage);
    const char *m = bl_error_message();
    if (strstr(m, path)) snprintf(pk->msg, sizeof pk->msg, "%s", m); /* it names the file already */
    else snprintf(pk->msg, sizeof pk->msg, "%s: %s", path, m);
}

/* A fresh packet from the pool; false when the run stops. */
static bool get_packet(reader_state *rs, bl_pk_type type) {
    void *p;
    if (!bl_queue_pop(rs->slot->free, &p)) return false;
    rs->pk = p;
    rs->pk->type = type;
    rs->pk->file = rs->file;
    rs->pk->n = 0;
    return true;
}

static bool send_packet(reader_state *rs) {
    bl_packet *pk = rs->pk;
    rs->pk = NULL;
    if (!bl_queue_push(rs->slot->ready, pk)) return false;
    return true;
}

/* Emit every window that the frames held now complete. False when the run stops. */
static bool emit_windows(reader_state *rs, reader_chan *ch, int n_ch) {
    bl_run_ctx *c = rs->c;
    size_t nm = (size_t)c->n_mels, W = (size_t)c->win;
    for (;;) {
        int64_t f0 = rs->next_win * c->hop_f;
        if (f0 + c->win > ch[0].total) break;
        for (int k = 0; k < n_ch; k++) {
            if (ch[k].skip) continue;
            if (!rs->pk && !get_packet(rs, BL_PK_WINDOWS)) return false;
            bl_packet *pk = rs->pk;
            const float *src = ch[k].frames + (size_t)(f0 - ch[k].base) * nm;
            float *dst = pk->data + (size_t)pk->n * nm * W;
            for (size_t t = 0; t < W; t++)
                for (size_t m = 0; m < nm; m++) dst[m * W + t] = src[t * nm + m];
            pk->channel[pk->n] = k;
            pk->start[pk->n] = c->files[rs->file].offset + f0 * c->hop_len;
            if (++pk->n == pk->cap && !send_packet(rs)) return false;
        }
        rs->next_win++;
    }
    /* drop the frames no later window needs */
    int64_t keep_from = rs->next_win * c->hop_f;
    for (int k = 0; k < n_ch; k++) {
        int64_t drop = keep_from - ch[k].base;
        if (drop <= 0) continue;
        if ((size_t)drop > ch[k].n_held) drop = (int64_t)ch[k].n_held;
        memmove(ch[k].frames, ch[k].frames + (size_t)drop * nm, (ch[k].n_held - (size_t)drop) * nm * sizeof(float));
        ch[k].n_held -= (size_t)drop;
        ch[k].base += drop;
    }
    return true;
}

/* Make room for `need` more frames in a channel. */
static bl_status reserve(reader_chan *ch, size_t need, size_t nm) {
    if (ch->n_held + need <= ch->cap) return BL_OK;
    size_t cap = ch->n_held + need + 64;
    float *f = realloc(ch->frames, cap * nm * sizeof(float));
    BL_CHECK_ALLOC(f);
    ch->frames = f;
    ch->cap = cap;
    return BL_OK;
}

/* Push n samples of every channel (planar, stride) through the front ends, or finish them
 * (planar NULL). */
static bl_status feed(bl_run_ctx *c, reader_chan *ch, int n_ch, const float *planar, size_t stride, size_t n) {
    size_t nm = (size_t)c->n_mels;
    for (int k = 0; k < n_ch; k++) {
        for (;;) {
            size_t need = bl_fe_stream_max_frames(ch[k].st, planar ? n : 0);
            BL_TRY(reserve(&ch[k], need, nm));
            size_t got = 0;
            float *dst = ch[k].frames + ch[k].n_held * nm;
            if (planar)
                BL_TRY(bl_fe_stream_push(ch[k].st, planar + (size_t)k * stride, n, dst, need, &got));
            else
                BL_TRY(bl_fe_stream_finish(ch[k].st, dst, need, &got));
            if (ch[k].feat && got) {
                bl_status fs = bl_feat_writer_put(ch[k].feat, 0, dst, got);
                if (fs != BL_OK) return ch[k].feat_err = true, fs;
            }
            ch[k].n_held += got;
            ch[k].total += (int64_t)got;
            if (planar || got == 0) break; /* finish: call again until it drains */
        }
    }
    return BL_OK;
}

/* "12.345 s (frame 197520), 12.5 s, ..." for the first non-finite positions. */
static void nf_positions(const bl_audio_nonfinite *nf, int rate, char *buf, size_t cap) {
    size_t k = 0;
    buf[0] = '\0';
    for (int i = 0; i < nf->n_pos && k + 40 < cap; i++)
        k += (size_t)snprintf(buf + k, cap - k, "%s%.6f s (frame %lld)", i ? ", " : "", (double)nf->pos[i] / rate,
                              (long long)nf->pos[i]);
    if (nf->count > nf->n_pos && k + 8 < cap) snprintf(buf + k, cap - k, ", ...");
}

static char *dup_msg(const char *m) {
    char *d = strdup(m);
    return d;
}

/* After a file was read through: what input.non_finite and input.truncated make of it, and
 * whether a channel was too short for one window. Failures and warnings go to
 * c->files[file].ch_fail / ch_warn (the model stage turns them into FAIL or END+warning per
 * item); a channel that fails drops its persist.features file. */
static bl_status judge_file(bl_run_ctx *c, size_t file, const bl_audio_stream *as, reader_chan *ch, int n_ch) {
    const bl_audio_reader *r = bl_audio_stream_reader(as);
    const bl_audio_info *info = bl_audio_get_info(r);
    bl_file_rt *f = &c->files[file];
    const char *trunc = bl_audio_truncation(r);
    for (int k = 0; k < n_ch; k++) {
        if (ch[k].skip) continue;
        char msg[1400], pos[600];
        const bl_audio_nonfinite *nf = bl_audio_get_nonfinite(r, k);
        char *fail = NULL, *warn = NULL;
        if (trunc && c->cfg->input.truncated == BL_TRUNCATED_FAIL) {
            snprintf(msg, sizeof msg, "%s; set input.truncated: keep to score the audio that is there", trunc);
            fail = dup_msg(msg);
        } else if (nf->count > 0 && c->cfg->input.non_finite == BL_NONFINITE_FAIL) {
            nf_positions(nf, info->sample_rate, pos, sizeof pos);
            snprintf(msg, sizeof msg, "%lld NaN/Inf sample(s) in channel %d, first at %s; set input.non_finite: zero "
                     "to score the item with them replaced by 0", (long long)nf->count, k, pos);
            fail = dup_msg(msg);
        } else {
            size_t w = 0;
            msg[0] = '\0';
            if (trunc) w += (size_t)snprintf(msg + w, sizeof msg - w, "%s; the audio that is there was scored", trunc);
            if (nf->count > 0 && w < sizeof msg) {
                nf_positions(nf, info->sample_rate, pos, sizeof pos);
                w += (size_t)snprintf(msg + w, sizeof msg - w, "%s%lld NaN/Inf sample(s) replaced by 0, first at %s",
                                      w ? "; " : "", (long long)nf->count, pos);
            }
            if (ch[k].total < c->win && w < sizeof msg)
                snprintf(msg + w, sizeof msg - w, "%sshorter than one model window (%lld of %d frames, %.3f s of %.3f s): "
                         "no window was scored", w ? "; " : "", (long long)ch[k].total, c->win,
                         (double)ch[k].total * c->hop_len / c->rate, (double)c->win * c->hop_len / c->rate);
            if (msg[0]) warn = dup_msg(msg);
        }
        if (!fail && !warn) continue;
        if (!f->ch_fail) f->ch_fail = calloc((size_t)n_ch, sizeof *f->ch_fail);
        if (!f->ch_warn) f->ch_warn = calloc((size_t)n_ch, sizeof *f->ch_warn);
        if (!f->ch_fail || !f->ch_warn || (!fail && !warn)) {
            free(fail), free(warn);
            return BL_ERROR(BL_ERR_NOMEM, "out of memory");
        }
        f->ch_fail[k] = fail;
        f->ch_warn[k] = warn;
        if (fail && ch[k].feat) { /* the item fails: its features file must not stay */
            feat_close(&ch[k], false);
            if (ch[k].feat_path) remove(ch[k].feat_path);
        }
    }
    return BL_OK;
}

/* One file from open to its END or FAIL packet. False when the run stops. */
static bool read_file(bl_run_ctx *c, bl_slot *slot, size_t file) {
    const bl_input *in = &c->plan.inputs[file];
    reader_state rs = {c, slot, file, NULL, 0};
    bl_audio_stream_opts ao = {c->rate, in->start_s, in->end_s > in->start_s ? in->end_s - in->start_s : 0,
                               c->block_frames};
    bl_audio_stream *as = NULL;
    reader_chan *ch = NULL;
    int n_ch = 0;
    const char *stage = "decode";
    int64_t t = bl_now_ns();
    /* what the planner could not open (an unreadable folder of a directory source, a FIFO
     * with an audio name) fails with the planner's reason, without being opened again */
    bl_status s = in->unscannable ? BL_ERROR(BL_ERR_IO, "%s", in->probe_error)
                                  : bl_audio_stream_open(in->path, &ao, &as);
    if (s == BL_OK) {
        n_ch = bl_audio_stream_channels(as);
        if (n_ch != c->n_items_of[file])
            s = BL_ERROR(BL_ERR_DECODE, "%d channels, but the plan probed %d (did the file change?)", n_ch,
                         c->n_items_of[file]);
    }
    if (s == BL_OK) {
        const bl_audio_info *info = bl_audio_stream_info(as);
        double in0 = floor(in->start_s * info->sample_rate);
        c->files[file].offset = llround(in0 * (double)c->rate / info->sample_rate);
        c->files[file].channels = n_ch;
        ch = calloc((size_t)n_ch, sizeof *ch);
        if (!ch) s = BL_ERROR(BL_ERR_NOMEM, "out of memory for %d channels", n_ch);
    }
    int64_t feat_frames = -1; /* the frame count when the length is known up front */
    if (s == BL_OK && c->cfg->persist.features) {
        int64_t e = bl_audio_stream_expected_frames(as);
        if (e >= 0) feat_frames = (int64_t)bl_frontend_frame_count(c->fe, (size_t)e);
    }
    for (int k = 0; s == BL_OK && k < n_ch; k++) {
        ch[k].skip = c->done[c->first_item[file] + k];
        s = bl_fe_stream_create(c->fe, 1, &ch[k].st);
        if (s == BL_OK && c->cfg->persist.features && !ch[k].skip) {
            s = feat_open(c, &ch[k], file, k, feat_frames);
            if (s != BL_OK) ch[k].feat_err = true;
        }
    }
    atomic_fetch_add(&c->busy_ns[BL_ST_DECODE], bl_now_ns() - t);
    bool ok = true;
    if (s == BL_OK) ok = get_packet(&rs, BL_PK_BEGIN) && send_packet(&rs);
    while (s == BL_OK && ok) {
        const float *planar;
        size_t n;
        t = bl_now_ns();
        s = bl_audio_stream_next(as, &planar, &n);
        int64_t t1 = bl_now_ns();
        atomic_fetch_add(&c->busy_ns[BL_ST_DECODE], t1 - t);
        if (s != BL_OK) break;
        stage = "frontend";
        s = feed(c, ch, n_ch, n ? planar : NULL, bl_audio_stream_stride(as), n);
        atomic_fetch_add(&c->samples_done, (long long)n);
        /* busy time excludes emit_windows, which mostly waits for free packets */
        atomic_fetch_add(&c->busy_ns[BL_ST_FRONTEND], bl_now_ns() - t1);
        if (s == BL_OK) ok = emit_windows(&rs, ch, n_ch);
        if (n == 0) break;
        stage = "decode";
    }
    if (s == BL_OK && ok) s = judge_file(c, file, as, ch, n_ch);
    /* a file is kept only when the item will be committed: not when the run stops mid-file */
    bool feat_fatal = false;
    for (int k = 0; ch && k < n_ch; k++) {
        bl_status fs = feat_close(&ch[k], s == BL_OK && ok);
        if (s == BL_OK && fs != BL_OK) s = fs, ch[k].feat_err = true;
        feat_fatal = feat_fatal || ch[k].feat_err;
    }
    if (ok && s != BL_OK && feat_fatal) {
        /* The features folder is output: a full disk there stops the run like a full disk
         * anywhere else (exit 3, --resume once there is room) instead of failing the input
         * for good. */
        bl_error_prefix("persist.features: ");
        bl_run_fail(c, s);
        ok = false;
    }
    if (ok && s == BL_OK && rs.pk && rs.pk->n > 0) ok = send_packet(&rs);
    if (ok && s == BL_OK) ok = (rs.pk || get_packet(&rs, BL_PK_END)) && (rs.pk->type = BL_PK_END, rs.pk->n = 0, send_packet(&rs));
    if (ok && s != BL_OK) {
        BL_LOG_D("run: %s failed at %s: %s", in->path, stage, bl_error_message());
        /* a complete file from an earlier, interrupted attempt must not outlive the failure */
        for (int k = 0; ch && k < n_ch; k++)
            if (ch[k].feat_path) remove(ch[k].feat_path);
        if (rs.pk || get_packet(&rs, BL_PK_FAIL)) {
            fail_packet(rs.pk, file, s, stage, in->path);
            ok = send_packet(&rs);
        } else {
            ok = false;
        }
    }
    if (rs.pk) bl_queue_push(slot->free, rs.pk); /* stopping: give it back */
    for (int k = 0; ch && k < n_ch; k++) {
        feat_close(&ch[k], false);
        bl_fe_stream_destroy(ch[k].st);
        free(ch[k].frames);
        free(ch[k].feat_path);
    }
    free(ch);
    bl_audio_stream_close(as);
    return ok;
}

void *bl_stage_reader(void *arg) {
    bl_reader_arg *ra = arg;
    bl_run_ctx *c = ra->c;
    for (size_t f = (size_t)ra->slot; f < c->plan.n_inputs; f += (size_t)c->n_slots) {
        if (bl_run_stopping(c)) break;
        if (c->file_skip[f]) continue;
        if (!read_file(c, &c->slots[ra->slot], f)) break;
    }
    return NULL;
}
