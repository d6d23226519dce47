/* clips.h — FLAC snippets of detected events (config output.clips), so that a run's output
 * holds the audio that matters and nothing else (issue 4, DESIGN §6).
 *
 * Defines: bl_clip_event (one event to cut), bl_clip_opts (the source and naming), and
 * bl_clips_write(), which cuts every clip of one (source, channel) work item.
 *
 * Rules (docs/scoring.md has examples):
 *  - Audio comes from the ORIGINAL file at its native rate, not from the resampled front-end
 *    stream: event positions (front-end samples counted from the file's first sample, as in
 *    bl_event_row) are converted to file frames, start = floor(s·file_rate/fe_rate),
 *    end = ceil(e·file_rate/fe_rate); then padded by round(pad_seconds·file_rate) frames on
 *    each side and clipped to the file [0, frames).
 *  - Padded spans that overlap or touch (next start <= previous end) are merged into one
 *    clip; every event of a merged clip gets that clip's path.
 *  - Name: clips/NNNNN_STEM_[chN_]YYYYMMDDTHHMMSS.mmmZ_LABELS.flac when the file's UTC start is
 *    known (chN only for files with more than one channel), else
 *    clips/NNNNN_STEM_chN_SSSSSS.mmms_LABELS.flac. NNNNN_STEM is io/outnames.h's name of the
 *    source (its index in the plan, then a readable stem of its key), so clips of different
 *    sources never share a name. The time is that of the clip's FIRST sample (padding
 *    included), floored to the millisecond, so that an offset t inside the clip is at name
 *    time + t; two clips of one item that start within the same millisecond get "_K" before
 *    ".flac". LABELS are the class names of the clip's events in order of first appearance,
 *    each once, joined by '+' (about 100 bytes at most). Characters other than letters, digits
 *    and "-_.+=@," become '_'.
 *  - Sample format: mono FLAC, 24-bit when the source has >= 24 bits (PCM_24, PCM_32, FLOAT,
 *    DOUBLE), else 16-bit. The samples are the source's samples at those frames: exactly for
 *    16- and 24-bit integer sources (float sources are rounded to 24 bits).
 *  - Each clip is written through io/outfile.h (an unnamed temporary, fsynced and linked into
 *    place), so a crash never leaves a half-written clip under its final name; re-running an
 *    item (resume) writes the same names with the same bytes.
 *  - A clip that cannot be cut because the SOURCE cannot be read there (a seek the format
 *    does not allow, a decode error) is skipped: its events keep their rows with no clip path,
 *    and the call reports it as a warning. A failure to WRITE a clip (disk full, I/O) is an
 *    error: the output is in trouble.
 *  - Memory: one read buffer of 16384 frames × channels, whatever the clip length; only the
 *    needed frames are read (seek).
 *
 * Threading: bl_clips_write keeps its state in locals; concurrent calls for different work
 * items are safe (their names differ by key, channel or time).
 */
#ifndef BL_CLIPS_H
#define BL_CLIPS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../core/error.h" /* bl_status */
#include "audio.h"         /* bl_audio_reader */

typedef struct {
    int64_t start_sample, end_sample; /* event span at the front-end rate, from the file's
                                         first sample (bl_event_row's fields) */
    const char *label;                /* class name */
} bl_clip_event;

typedef struct {
    const char *out_dir;      /* run output directory; clips go to out_dir/clips/ (created) */
    const char *source_path;  /* audio file to cut from, opened with bl_audio_open ... */
    bl_audio_reader *reader;  /* ... unless an open reader is given (borrowed; it is seeked and
                                 read, its position is left anywhere) */
    const char *source_key;   /* names the clips (its readable stem) */
    int64_t source_index;     /* the source's index in the plan (makes the names unique) */
    int channel;              /* channel to cut (0-based) */
    int frontend_rate;        /* rate of the events' sample positions (> 0) */
    bool has_utc;             /* the file's UTC start is known */
    int64_t utc_start_ms;
    double pad_seconds;       /* output.clips.pad_seconds (>= 0) */
} bl_clip_opts;

/* Write the clips of n events (any order). paths[i] receives a malloc'ed path relative to
 * out_dir ("clips/NAME.flac") for event i, or NULL when the event lies wholly outside the
 * file or its clip could not be cut from the source; free each with free(). *warning (may be
 * NULL) receives a malloc'ed message when some clips were skipped because the source could
 * not be read (then the status is BL_OK), else NULL. On error every paths[i] is NULL and no
 * final clip name of this call is left half-written. Errors: BL_ERR_INVALID_ARG,
 * BL_ERR_IO / BL_ERR_NO_SPACE naming the clip path, BL_ERR_NOMEM. */
bl_status bl_clips_write(const bl_clip_opts *o, const bl_clip_event *ev, size_t n, char **paths,
                         char **warning);

#endif /* BL_CLIPS_H */
