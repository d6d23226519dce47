/* cmd_synth.c — `baleen synth`: parse the options into bl_synth_params, write the audio and
 * its truth CSV (core/synth.h), print a one-line summary.
 *
 * Exit codes (DESIGN §8): 0 written; 1 bad option or value (named in the message); 3 I/O
 * failure (the path is named). Threading: runs on the main thread only.
 */
#include <errno.h>  /* strtod/strtol range errors */
#include <stdio.h>  /* help and summary */
#include <stdlib.h> /* strtod, strtoull */
#include <string.h> /* option matching */

#include "commands.h" /* bl_cmd_synth, bl_cli_error */
#include "log.h"      /* bl_log_get_level: -q silences the summary */
#include "synth.h"    /* bl_synth_params, bl_synth_write */

static void bl_synth_help(FILE *f) {
    fprintf(f,
            "usage: baleen synth -o OUT.wav [options]\n\n"
            "Write synthetic hydrophone-like audio with known whale calls, and a ground-truth CSV.\n"
            "The background is ocean-coloured noise with a slowly wandering level, ship tonals\n"
            "(50-500 Hz lines fading in and out over minutes) and clicks; each channel gets its own\n"
            "background and its own calls. The same options and --seed give byte-identical files.\n\n"
            "options:\n"
            "  -o, --output PATH     audio file to write (required)\n"
            "  --truth PATH          truth CSV (default: OUT with its extension replaced by .truth.csv)\n"
            "  --seconds S           length in seconds (default 600)\n"
            "  --rate HZ             sample rate, 4000..384000 (default 16000)\n"
            "  --channels N          channels, 1..64, FLAC 1..8 (default 1)\n"
            "  --calls N             calls per channel (default: one per 30 s)\n"
            "  --kinds LIST          upcall, song_unit or upcall,song_unit (default both)\n"
            "                          upcall: right-whale-like 40-80 -> 180-280 Hz sweep, 0.6-1.5 s\n"
            "                          song_unit: humpback-like tonal unit, 100-2000 Hz, 0.5-3 s, 2-4 harmonics\n"
            "  --snr MIN:MAX         call SNR range in dB, drawn uniformly (default 0:20; one value: fixed)\n"
            "  --seed N              random seed (default 1)\n"
            "  --noise COLOUR        ocean, pink, brown or white (default ocean)\n"
            "  --noise-db DB         background RMS in dBFS, -120..-6 (default -30)\n"
            "  --no-ships            no ship tonals\n"
            "  --no-clicks           no clicks\n"
            "  --only WHAT           write only the calls or only the background (same gains as the mix)\n"
            "  --format wav|flac     container (default wav; RF64 past 4 GiB)\n"
            "  --subtype pcm16|pcm24|float   sample format (default pcm24, like the MBARI archive;\n"
            "                        FLAC: pcm16 or pcm24)\n"
            "  -h, --help            this help\n\n"
            "SNR: 10*log10(Ec/En), Ec the energy of the call alone and En that of the background alone,\n"
            "both over the call's samples and within [0.9*min(f0,f1), 1.1*max(f0,f1)] Hz (zero-padded\n"
            "power-of-two DFT), f0/f1 being the fundamental's start and end frequency in the truth.\n\n"
            "truth CSV: kind,channel,start_s,end_s,f0_hz,f1_hz,snr_db — one row per call, sorted by\n"
            "channel then start; channels count from 0.\n\n"
            "examples:\n"
            "  baleen synth -o demo.wav --seconds 600 --calls 20 --seed 1\n"
            "  baleen synth -o day.flac --format flac --seconds 86400 --kinds upcall --snr -5:15\n"
            "  baleen synth -o stereo.wav --channels 2 --subtype float --no-clicks --truth stereo.csv\n\n"
            "exit codes: 0 written, 1 bad option, 3 I/O error.\n");
}

static int bl_synth_usage(const char *opt, const char *fmt, const char *val) {
    fprintf(stderr, "baleen: error: synth: %s", opt);
    if (val) fprintf(stderr, " '%s'", val);
    fprintf(stderr, ": %s (see baleen synth --help)\n", fmt);
    return BL_EXIT_USAGE;
}

static int bl_parse_double(const char *s, double *out) {
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    if (end == s || *end || errno) return 0;
    *out = v;
    return 1;
}

static int bl_parse_long(const char *s, long *out) {
    char *end;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (end == s || *end || errno) return 0;
    *out = v;
    return 1;
}

static int bl_parse_kinds(const char *s, unsigned *out) {
    unsigned k = 0;
    const char *p = s;
    while (*p) {
        const char *comma = strchr(p, ',');
        size_t n = comma ? (size_t)(comma - p) : strlen(p);
        if (n == 6 && !strncmp(p, "upcall", 6))
            k |= BL_SYNTH_UPCALL;
        else if (n == 9 && !strncmp(p, "song_unit", 9))
            k |= BL_SYNTH_SONG_UNIT;
        else if (n == 3 && !strncmp(p, "all", 3))
            k |= BL_SYNTH_ALL_KINDS;
        else
            return 0;
        if (!comma) break;
        p = comma + 1;
        if (!*p) return 0;
    }
    *out = k;
    return k != 0;
}

int bl_cmd_synth(int argc, char **argv) {
    bl_synth_params p;
    bl_synth_params_default(&p);
    const char *out = NULL, *truth = NULL;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
            bl_synth_help(stdout);
            return BL_EXIT_OK;
        }
        if (!strcmp(a, "--no-ships")) {
            p.ships = 0;
            continue;
        }
        if (!strcmp(a, "--no-clicks")) {
            p.clicks = 0;
            continue;
        }
        /* every other option takes a value: "--opt VALUE" or "--opt=VALUE" */
        char name[64];
        const char *val = NULL, *eq = strchr(a, '=');
        if (a[0] == '-' && a[1] == '-' && eq && (size_t)(eq - a) < sizeof name) {
            memcpy(name, a, (size_t)(eq - a));
            name[eq - a] = 0;
            val = eq + 1;
        } else {
            snprintf(name, sizeof name, "%s", a);
        }
        static const char *const with_value[] = {"-o", "--output", "--truth", "--seconds", "--rate", "--channels",
                                                 "--calls", "--kinds", "--snr", "--seed", "--noise", "--noise-db",
                                                 "--only", "--format", "--subtype"};
        int known = 0;
        for (size_t k = 0; k < sizeof with_value / sizeof with_value[0]; k++) known |= !strcmp(name, with_value[k]);
        if (!known) {
            if (a[0] == '-') return bl_synth_usage(a, "unknown option", NULL);
            return bl_synth_usage(a, "unexpected argument (the output goes after -o)", NULL);
        }
        if (!val) {
            if (i + 1 >= argc) return bl_synth_usage(name, "needs a value", NULL);
            val = argv[++i];
        }
        double d;
        long l;
        if (!strcmp(name, "-o") || !strcmp(name, "--output")) {
            if (!*val) return bl_synth_usage(name, "needs a path", NULL);
            out = val;
        } else if (!strcmp(name, "--truth")) {
            if (!*val) return bl_synth_usage(name, "needs a path", NULL);
            truth = val;
        } else if (!strcmp(name, "--seconds")) {
            if (!bl_parse_double(val, &d) || !(d > 0)) return bl_synth_usage(name, "must be a number > 0", val);
            p.seconds = d;
        } else if (!strcmp(name, "--rate")) {
            if (!bl_parse_long(val, &l) || l < 4000 || l > 384000)
                return bl_synth_usage(name, "must be an integer in 4000..384000 Hz", val);
            p.sample_rate = (int)l;
        } else if (!strcmp(name, "--channels")) {
            if (!bl_parse_long(val, &l) || l < 1 || l > 64) return bl_synth_usage(name, "must be an integer in 1..64", val);
            p.channels = (int)l;
        } else if (!strcmp(name, "--calls")) {
            if (!bl_parse_long(val, &l) || l < 0 || l > 1000000)
                return bl_synth_usage(name, "must be an integer in 0..1000000", val);
            p.n_calls = l;
        } else if (!strcmp(name, "--kinds")) {
            if (!bl_parse_kinds(val, &p.kinds)) return bl_synth_usage(name, "must be upcall, song_unit or upcall,song_unit", val);
        } else if (!strcmp(name, "--snr")) {
            const char *colon = strchr(val, ':');
            double lo, hi;
            if (colon) {
                char buf[64];
                size_t n = (size_t)(colon - val);
                if (n >= sizeof buf) return bl_synth_usage(name, "must be MIN:MAX in dB", val);
                memcpy(buf, val, n);
                buf[n] = 0;
                if (!bl_parse_double(buf, &lo) || !bl_parse_double(colon + 1, &hi))
                    return bl_synth_usage(name, "must be MIN:MAX in dB", val);
            } else if (bl_parse_double(val, &lo)) {
                hi = lo;
            } else {
                return bl_synth_usage(name, "must be MIN:MAX in dB", val);
            }
            if (!(lo >= -30 && hi <= 60 && lo <= hi)) return bl_synth_usage(name, "needs -30 <= MIN <= MAX <= 60", val);
            p.snr_min_db = lo;
            p.snr_max_db = hi;
        } else if (!strcmp(name, "--seed")) {
            char *end;
            errno = 0;
            unsigned long long s = strtoull(val, &end, 10);
            if (end == val || *end || errno || val[0] == '-')
                return bl_synth_usage(name, "must be a non-negative integer", val);
            p.seed = (uint64_t)s;
        } else if (!strcmp(name, "--noise")) {
            if (!strcmp(val, "ocean")) p.noise = BL_SYNTH_NOISE_OCEAN;
            else if (!strcmp(val, "pink")) p.noise = BL_SYNTH_NOISE_PINK;
            else if (!strcmp(val, "brown")) p.noise = BL_SYNTH_NOISE_BROWN;
            else if (!strcmp(val, "white")) p.noise = BL_SYNTH_NOISE_WHITE;
            else return bl_synth_usage(name, "must be ocean, pink, brown or white", val);
        } else if (!strcmp(name, "--noise-db")) {
            if (!bl_parse_double(val, &d) || !(d >= -120 && d <= -6))
                return bl_synth_usage(name, "must be a number in -120..-6 dBFS", val);
            p.noise_db = d;
        } else if (!strcmp(name, "--only")) {
            if (!strcmp(val, "calls")) p.content = BL_SYNTH_CALLS_ONLY;
            else if (!strcmp(val, "background")) p.content = BL_SYNTH_BACKGROUND_ONLY;
            else return bl_synth_usage(name, "must be calls or background", val);
        } else if (!strcmp(name, "--format")) {
            if (!strcmp(val, "wav")) p.format = BL_SYNTH_WAV;
            else if (!strcmp(val, "flac")) p.format = BL_SYNTH_FLAC;
            else return bl_synth_usage(name, "must be wav or flac", val);
        } else if (!strcmp(name, "--subtype")) {
            if (!strcmp(val, "pcm16")) p.subtype = BL_SYNTH_PCM16;
            else if (!strcmp(val, "pcm24")) p.subtype = BL_SYNTH_PCM24;
            else if (!strcmp(val, "float")) p.subtype = BL_SYNTH_FLOAT;
            else return bl_synth_usage(name, "must be pcm16, pcm24 or float", val);
        }
    }
    if (!out) return bl_synth_usage("-o", "is required: where to write the audio", NULL);

    bl_status s = bl_synth_params_validate(&p);
    if (s != BL_OK) return bl_cli_error(s, "synth");
    char truth_buf[4096];
    if (!truth) {
        s = bl_synth_truth_path(out, truth_buf, sizeof truth_buf);
        if (s != BL_OK) return bl_cli_error(s, "synth");
        truth = truth_buf;
    }
    long calls = 0;
    s = bl_synth_write(&p, out, truth, &calls);
    if (s != BL_OK) return bl_cli_error(s, "synth");
    if (bl_log_get_level() >= BL_LOG_INFO) /* -q silences the summary */
        printf("baleen synth: wrote %.1f s, %d channel%s, %d Hz, %ld call%s to %s (truth: %s)\n", p.seconds, p.channels,
           p.channels == 1 ? "" : "s", p.sample_rate, calls, calls == 1 ? "" : "s", out, truth);
    return BL_EXIT_OK;
}
