/* cmd_export.c — `baleen export OUTDIR --format csv|jsonl|raven [--table T] [-o FILE]
 * [--per-source]`: one decompressed, verified table of a run's output directory
 * (core/export.c does the work; this file parses the command line).
 *
 * Threading: the command's own thread only.
 */
#include <stdio.h>
#include <string.h> /* strcmp: -o - */

#include "cli_args.h" /* bl_cli_args_parse: the options */
#include "commands.h" /* bl_cli_error */
#include "export.h"   /* bl_export_run */
#include "log.h"      /* summary line */

static void print_help(FILE *f) {
    fprintf(f,
            "usage: baleen export OUTDIR --format csv|jsonl|raven [--table segments|events|window_scores]\n"
            "                     [-o FILE] [--per-source [--overwrite]]\n\n"
            "Write one table of a run's output directory, decompressed, as a single file. Every chunk\n"
            "is verified first (sha256 from manifest.json and the zstd checksum); a corrupt or missing\n"
            "chunk is an error naming it, and no partial output file is left.\n\n"
            "options:\n"
            "  --format F       csv (RFC 4180, one header), jsonl (one JSON object per row, numbers\n"
            "                   as numbers, empty fields as null) or raven (Raven Pro selection table\n"
            "                   of the events: Selection, View, Channel (from 1), Begin/End Time (s),\n"
            "                   Low/High Freq (Hz) from the front end in run.json, Class, Peak Score,\n"
            "                   Mean Score, Source, Begin/End UTC and Clip when known)\n"
            "  --table T        segments (default; events for raven), events or window_scores\n"
            "  -o, --output P   output file (default, or -: stdout; a device or FIFO is written in\n"
            "                   place); with --per-source a folder\n"
            "  --per-source     one file per source: NNNNN_STEM.selections.txt (raven) or\n"
            "                   NNNNN_STEM.<table>.csv|.jsonl, NNNNN the source's index in the run's\n"
            "                   plan (run.json inputs), STEM its file name; all files are written or\n"
            "                   none; without it a combined table (raven adds a Begin File column)\n"
            "  --overwrite      --per-source: replace files of the same names (by default an\n"
            "                   existing file stops the export before anything is written)\n"
            "  -h, --help       this help\n\n"
            "examples:\n"
            "  baleen export out/ --format csv --table events -o events.csv\n"
            "  baleen export out/ --format raven --per-source -o raven/\n"
            "  baleen export out/ --format jsonl | head\n");
}

enum { OPT_FORMAT, OPT_TABLE, OPT_OUTPUT, OPT_PER_SOURCE, OPT_OVERWRITE, N_OPTS };
static const bl_cli_opt k_opts[N_OPTS] = {
    [OPT_FORMAT] = {"format", 0, "csv|jsonl|raven", false},
    [OPT_TABLE] = {"table", 0, "segments|events|window_scores", false},
    [OPT_OUTPUT] = {"output", 'o', "FILE", false},
    [OPT_PER_SOURCE] = {"per-source", 0, NULL, false},
    [OPT_OVERWRITE] = {"overwrite", 0, NULL, false},
};

int bl_cmd_export(int argc, char **argv) {
    bl_export_opts o = {.table = BL_TABLE_SEGMENTS};
    bl_cli_args a;
    if (bl_cli_args_parse(k_opts, N_OPTS, argc, argv, &a) != BL_OK) return bl_cli_usage("export", "%s", bl_error_message());
    if (a.help) {
        bl_cli_args_free(&a);
        print_help(stdout);
        return BL_EXIT_OK;
    }
    const char *format = a.hits[OPT_FORMAT].value, *table = a.hits[OPT_TABLE].value;
    o.out = a.hits[OPT_OUTPUT].value;
    o.per_source = a.hits[OPT_PER_SOURCE].count > 0;
    o.overwrite = a.hits[OPT_OVERWRITE].count > 0;
    o.dir = a.n_pos > 0 ? a.pos[0] : NULL;
    int rc = -1;
    if (a.n_pos > 1)
        rc = bl_cli_usage("export", "unexpected argument '%.160s' (argument %d): one OUTDIR", a.pos[1], a.pos_arg[1]);
    else if (!o.dir) rc = bl_cli_usage("export", "missing OUTDIR");
    else if (!format) rc = bl_cli_usage("export", "missing --format (csv, jsonl or raven)");
    else if (o.out && !strcmp(o.out, "-") && o.per_source)
        rc = bl_cli_usage("export", "-o - (standard output) with --per-source: --per-source needs a folder");
    bl_cli_args_free(&a); /* the values point into argv, not into a */
    if (rc >= 0) return rc;
    if (!strcmp(o.out ? o.out : "", "-")) o.out = NULL; /* -o -: standard output, as without -o */
    bl_status s = bl_export_parse_format(format, &o.format);
    if (s != BL_OK) return bl_cli_usage("export", "unknown --format %.160s (csv, jsonl or raven)", format);
    if (o.format == BL_EXPORT_RAVEN) o.table = BL_TABLE_EVENTS;
    if (table) {
        int t = bl_table_from_name(table);
        if (t < 0) return bl_cli_usage("export", "unknown --table %.160s (segments, events or window_scores)", table);
        o.table = (bl_table_id)t;
    }
    long long rows = 0;
    s = bl_export_run(&o, &rows);
    if (s != BL_OK) return bl_cli_error(s, "export");
    if (o.out) BL_LOG_I("export: %lld %s row(s) written to %s", rows, bl_table_name(o.table), o.out);
    return BL_EXIT_OK;
}
