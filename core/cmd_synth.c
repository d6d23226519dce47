/* cmd_synth.c — `baleen synth`: parse the options into bl_synth_params, write the audio and
 * its truth CSV (core/synth.h), print a one-line summary.
 *
 * Exit codes (DESIGN §8): 0 written; 1 bad option or value (named in the message); 3 I/O
 * failure (the path is named) or interrupted: SIGINT/SIGTERM set a flag that the write
 * loop polls, and it stops and removes its temporary files. Options: core/cli_args.c.
 * Threading: runs on the main thread only; the signal handler only stores the flag.
 */
#include <errno.h>  /* strtoull/strtod range errors */
#include <signal.h> /* sigaction: SIGINT/SIGTERM stop the write cleanly */
#include <stdio.h>  /* help and summary */
#include <stdlib.h> /* strtoull, strtod, malloc */
#include <string.h> /* strcmp, strchr on values */

#include "cli_args.h" /* bl_cli_args_parse: the options */
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
            "exit codes: 0 written, 1 bad option, 3 I/O error or interrupted (SIGINT/SIGTERM: nothing is\n"
            "left behind).\n");
}

static int bl_synth_usage(const char *opt, const char *fmt, const char *val) {
    if (val) return bl_cli_usage("synth", "%s '%.160s': %s", opt, val, fmt);
    return bl_cli_usage("synth", "%s: %s", opt, fmt);
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

enum { OPT_OUTPUT, OPT_TRUTH, OPT_SECONDS, OPT_RATE, OPT_CHANNELS, OPT_CALLS, OPT_KINDS, OPT_SNR, OPT_SEED,
       OPT_NOISE, OPT_NOISE_DB, OPT_ONLY, OPT_FORMAT, OPT_SUBTYPE, OPT_NO_SHIPS, OPT_NO_CLICKS, N_OPTS };
static const bl_cli_opt k_opts[N_OPTS] = {
    [OPT_OUTPUT] = {"output", 'o', "PATH", false},      [OPT_TRUTH] = {"truth", 0, "PATH", false},
    [OPT_SECONDS] = {"seconds", 0, "S", false},         [OPT_RATE] = {"rate", 0, "HZ", false},
    [OPT_CHANNELS] = {"channels", 0, "N", false},       [OPT_CALLS] = {"calls", 0, "N", false},
    [OPT_KINDS] = {"kinds", 0, "LIST", false},          [OPT_SNR] = {"snr", 0, "MIN:MAX", false},
    [OPT_SEED] = {"seed", 0, "N", false},               [OPT_NOISE] = {"noise", 0, "COLOUR", false},
    [OPT_NOISE_DB] = {"noise-db", 0, "DB", false},      [OPT_ONLY] = {"only", 0, "calls|background", false},
    [OPT_FORMAT] = {"format", 0, "wav|flac", false},    [OPT_SUBTYPE] = {"subtype", 0, "pcm16|pcm24|float", false},
    [OPT_NO_SHIPS] = {"no-ships", 0, NULL, false},      [OPT_NO_CLICKS] = {"no-clicks", 0, NULL, false},
};

/* The one piece of process-wide state: the signal handler's flag (a handler can only talk
 * through a static sig_atomic_t); bl_synth_write polls it between blocks. */
static volatile sig_atomic_t g_stop_signal;

static void on_signal(int sig) { g_stop_signal = sig; }

/* Every option's value into *p; returns an exit code, or -1 when all are valid. */
static int parse_values(const bl_cli_args *a, bl_synth_params *p) {
    for (int k = 0; k < N_OPTS; k++) {
        const bl_cli_hit *h = &a->hits[k];
        if (!h->count) continue;
        const char *name = h->typed, *val = h->value;
        double d;
        long l;
        switch (k) {
        case OPT_OUTPUT:
        case OPT_TRUTH:
            if (!*val) return bl_synth_usage(name, "needs a path", NULL);
            break;
        case OPT_NO_SHIPS: p->ships = 0; break;
        case OPT_NO_CLICKS: p->clicks = 0; break;
        case OPT_SECONDS:
            if (!bl_cli_parse_double(val, &d) || !(d > 0)) return bl_synth_usage(name, "must be a number > 0", val);
            p->seconds = d;
            break;
        case OPT_RATE:
            if (!bl_cli_parse_long(val, 4000, 384000, &l))
                return bl_synth_usage(name, "must be an integer in 4000..384000 Hz", val);
            p->sample_rate = (int)l;
            break;
        case OPT_CHANNELS:
            if (!bl_cli_parse_long(val, 1, 64, &l)) return bl_synth_usage(name, "must be an integer in 1..64", val);
            p->channels = (int)l;
            break;
        case OPT_CALLS:
            if (!bl_cli_parse_long(val, 0, 1000000, &l)) return bl_synth_usage(name, "must be an integer in 0..1000000", val);
            p->n_calls = l;
            break;
        case OPT_KINDS:
            if (!bl_parse_kinds(val, &p->kinds)) return bl_synth_usage(name, "must be upcall, song_unit or upcall,song_unit", val);
            break;
        case OPT_SNR: {
            const char *colon = strchr(val, ':');
            double lo, hi;
            if (colon) {
                char *end;
                errno = 0;
                lo = strtod(val, &end); /* MIN must end at the colon */
                if (end == val || end != colon || errno || !bl_cli_parse_double(colon + 1, &hi))
                    return bl_synth_usage(name, "must be MIN:MAX in dB", val);
            } else if (bl_cli_parse_double(val, &lo)) {
                hi = lo;
            } else {
                return bl_synth_usage(name, "must be MIN:MAX in dB", val);
            }
            if (!(lo >= -30 && hi <= 60 && lo <= hi)) return bl_synth_usage(name, "needs -30 <= MIN <= MAX <= 60", val);
            p->snr_min_db = lo;
            p->snr_max_db = hi;
            break;
        }
        case OPT_SEED: {
            char *end;
            errno = 0;
            unsigned long long s = strtoull(val, &end, 10);
            if (end == val || *end || errno || val[0] == '-')
                return bl_synth_usage(name, "must be a non-negative integer", val);
            p->seed = (uint64_t)s;
            break;
        }
        case OPT_NOISE:
            if (!strcmp(val, "ocean")) p->noise = BL_SYNTH_NOISE_OCEAN;
            else if (!strcmp(val, "pink")) p->noise = BL_SYNTH_NOISE_PINK;
            else if (!strcmp(val, "brown")) p->noise = BL_SYNTH_NOISE_BROWN;
            else if (!strcmp(val, "white")) p->noise = BL_SYNTH_NOISE_WHITE;
            else return bl_synth_usage(name, "must be ocean, pink, brown or white", val);
            break;
        case OPT_NOISE_DB:
            if (!bl_cli_parse_double(val, &d) || !(d >= -120 && d <= -6))
                return bl_synth_usage(name, "must be a number in -120..-6 dBFS", val);
            p->noise_db = d;
            break;
        case OPT_ONLY:
            if (!strcmp(val, "calls")) p->content = BL_SYNTH_CALLS_ONLY;
            else if (!strcmp(val, "background")) p->content = BL_SYNTH_BACKGROUND_ONLY;
            else return bl_synth_usage(name, "must be calls or background", val);
            break;
        case OPT_FORMAT:
            if (!strcmp(val, "wav")) p->format = BL_SYNTH_WAV;
            else if (!strcmp(val, "flac")) p->format = BL_SYNTH_FLAC;
            else return bl_synth_usage(name, "must be wav or flac", val);
            break;
        case OPT_SUBTYPE:
            if (!strcmp(val, "pcm16")) p->subtype = BL_SYNTH_PCM16;
            else if (!strcmp(val, "pcm24")) p->subtype = BL_SYNTH_PCM24;
            else if (!strcmp(val, "float")) p->subtype = BL_SYNTH_FLOAT;
            else return bl_synth_usage(name, "must be pcm16, pcm24 or float", val);
            break;
        }
    }
    return -1;
}

int bl_cmd_synth(int argc, char **argv) {
    bl_synth_params p;
    bl_synth_params_default(&p);
    bl_cli_args a;
    if (bl_cli_args_parse(k_opts, N_OPTS, argc, argv, &a) != BL_OK) return bl_cli_usage("synth", "%s", bl_error_message());
    int rc = -1;
    if (a.help) {
        bl_synth_help(stdout);
        rc = BL_EXIT_OK;
    } else if (a.n_pos > 0) {
        rc = bl_cli_usage("synth", "unexpected argument '%.160s' (argument %d; the output goes after -o)", a.pos[0],
                          a.pos_arg[0]);
    } else {
        rc = parse_values(&a, &p);
    }
    const char *out = a.hits[OPT_OUTPUT].value, *truth = a.hits[OPT_TRUTH].value; /* argv's */
    bl_cli_args_free(&a);
    if (rc >= 0) return rc;
    if (!out) return bl_synth_usage("-o", "is required: where to write the audio", NULL);

    bl_status s = bl_synth_params_validate(&p);
    if (s != BL_OK) return bl_cli_error(s, "synth");
    char *truth_buf = NULL;
    if (!truth) {
        size_t cap = strlen(out) + sizeof ".truth.csv";
        truth_buf = malloc(cap);
        if (!truth_buf) return bl_cli_error(BL_ERROR(BL_ERR_NOMEM, "out of memory"), "synth");
        s = bl_synth_truth_path(out, truth_buf, cap);
        if (s != BL_OK) {
            free(truth_buf);
            return bl_cli_error(s, "synth");
        }
        truth = truth_buf;
    }

    /* SIGINT/SIGTERM: stop between two blocks, remove the temporaries, exit 3 (DESIGN §8) */
    struct sigaction sa, old_int, old_term;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sa.sa_flags = SA_RESETHAND; /* a second Ctrl-C kills at once */
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, &old_int);
    sigaction(SIGTERM, &sa, &old_term);
    p.stop = &g_stop_signal;

    long calls = 0;
    s = bl_synth_write(&p, out, truth, &calls);

    sigaction(SIGINT, &old_int, NULL);
    sigaction(SIGTERM, &old_term, NULL);
    if (s != BL_OK && g_stop_signal) {
        fprintf(stderr, "baleen: synth: interrupted by signal %d (%s); nothing written to %s (its temporary files "
                        "are removed): run the command again to make it\n",
                (int)g_stop_signal, g_stop_signal == SIGINT ? "SIGINT" : g_stop_signal == SIGTERM ? "SIGTERM" : "signal",
                out);
        rc = BL_EXIT_FATAL;
    } else if (s != BL_OK) {
        rc = bl_cli_error(s, "synth");
    } else {
        if (bl_log_get_level() >= BL_LOG_INFO) /* -q silences the summary */
            printf("baleen synth: wrote %.1f s, %d channel%s, %d Hz, %ld call%s to %s (truth: %s)\n", p.seconds,
                   p.channels, p.channels == 1 ? "" : "s", p.sample_rate, calls, calls == 1 ? "" : "s", out, truth);
        rc = BL_EXIT_OK;
    }
    free(truth_buf);
    return rc;
}
