/* fuzz_audio.c — LLVMFuzzerTestOneInput for the audio reader and stream (io/audio.c):
 * bytes → bl_audio_open_memory → info, read everything in small blocks, seek to the middle
 * and read again, close; then the same bytes through a resampling stream with a window.
 * Any crash, hang, leak or sanitizer report is a bug; error statuses are expected.
 *
 * The decoded amount is capped per input so that a header claiming hours of audio (or a
 * 1 Hz file upsampled to 16 kHz) keeps each run short; the cap bounds the work, not what
 * is checked.
 */
#include <stdint.h>
#include <stdlib.h>

#include "core/log.h"  /* silence truncation warnings: thousands of inputs are truncated */
#include "io/audio.h"

#define MAX_SAMPLES ((size_t)1 << 20) /* per input and pass: frames x channels */

/* Known leak outside baleen: libsndfile 1.2.0 does not free the vorbis_info it set up when
 * an Ogg Vorbis header fails to parse (about 6 KB per refused file; upstream
 * libsndfile/libsndfile#922). Read by LeakSanitizer (gcc and clang) at start-up; files that
 * open and close normally do not leak, and test_audio checks those under ASan. */
const char *__lsan_default_suppressions(void);
const char *__lsan_default_suppressions(void) {
    return "leak:vorbis_info_init\nleak:vorbis_synthesis_headerin\n";
}

static void read_some(bl_audio_reader *r, float *buf, size_t block, size_t max_frames) {
    size_t total = 0, got = 0;
    while (total < max_frames && bl_audio_read(r, buf, block, &got) == BL_OK && got > 0) {
        if (got > block) abort(); /* the reader wrote past what it was given */
        total += got;
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    bl_log_set_level(BL_LOG_ERROR);
    bl_audio_reader *r = NULL;
    if (bl_audio_open_memory(data, size, "fuzz", &r) == BL_OK) {
        const bl_audio_info *info = bl_audio_get_info(r);
        if (info->channels < 1 || info->sample_rate < 1 || info->frames == 0) abort();
        size_t ch = (size_t)info->channels, block = 257;
        float *buf = malloc(block * ch * sizeof *buf);
        if (buf) {
            size_t max_frames = MAX_SAMPLES / ch + 1;
            read_some(r, buf, block, max_frames);
            if (info->frames > 1 && bl_audio_seek(r, info->frames / 2) == BL_OK)
                read_some(r, buf, block, 4 * block);
            free(buf);
        }
        bl_audio_close(r);
    }
    r = NULL;
    if (bl_audio_open_memory(data, size, "fuzz", &r) == BL_OK) {
        size_t ch = (size_t)bl_audio_get_info(r)->channels;
        bl_audio_stream_opts o = {16000, 0.001, 0.5, 1000};
        bl_audio_stream *s = NULL;
        if (bl_audio_stream_open_reader(r, &o, &s) == BL_OK) {
            const float *planar;
            size_t n = 0, total = 0;
            while (total < MAX_SAMPLES / ch + 1 && bl_audio_stream_next(s, &planar, &n) == BL_OK &&
                   n > 0) {
                if (n > bl_audio_stream_stride(s)) abort();
                total += n;
            }
            if (total > 8000) abort(); /* 0.5 s at 16 kHz */
            bl_audio_stream_close(s);
        }
    }
    return 0;
}
