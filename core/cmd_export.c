/* cmd_export.c — `baleen export OUTDIR --format csv|jsonl|raven [--table T] [-o FILE]
 * [--per-source]`: one decompressed, verified table of a run's output directory
 * (core/export.c does the work; this file parses the command line).
 *
 * Threading: the command's own thread only.
 */
#include <stdio.h>
#include <string.h> /* strcmp */

#include "commands.h" /* bl_cli_error */
#include "export.h"   /* bl_export_run */
#include "log.h"      /* summary line */

static void print_help(FILE *f) {
    fprintf(f,
            "usage: baleen export OUTDIR --format csv|jsonl|raven [--table segments|events|window_scores]\n"
            "                     [-o FILE] [--per-source]\n\n"
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
            "  -o, --output P   output file (default: stdout); with --per-source a folder\n"
            "  --per-source     one file per source: <key>.selections.txt (raven) or\n"
            "                   <key>.<table>.csv|.jsonl; without it a combined table (raven adds a\n"
            "                   Begin File column)\n"
            "  -h, --help       this help\n\n"
            "examples:\n"
            "  baleen export out/ --format csv --table events -o events.csv\n"
            "  baleen export out/ --format raven --per-source -o raven/\n"
            "  baleen export out/ --format jsonl | head\n");
}

static int usage(const char *msg, const char *arg) {
    fprintf(stderr, "baleen: error: export: %s%s%s (see baleen export --help)\n", msg, arg ? " " : "", arg ? arg : "");
    return BL_EXIT_USAGE;
}

int bl_cmd_export(int argc, char **argv) {
    bl_export_opts o = {.table = BL_TABLE_SEGMENTS};
    const char *format = NULL, *table = NULL;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
            print_help(stdout);
            return BL_EXIT_OK;
        } else if (!strcmp(a, "--format") || !strcmp(a, "--table") || !strcmp(a, "-o") || !strcmp(a, "--output")) {
            if (i + 1 >= argc) return usage("missing value after", a);
            const char *v = argv[++i];
            if (!strcmp(a, "--format")) format = v;
            else if (!strcmp(a, "--table")) table = v;
            else o.out = v;
        } else if (!strncmp(a, "--format=", 9)) format = a + 9;
        else if (!strncmp(a, "--table=", 8)) table = a + 8;
        else if (!strncmp(a, "--output=", 9)) o.out = a + 9;
        else if (!strcmp(a, "--per-source")) o.per_source = true;
        else if (a[0] == '-' && a[1]) return usage("unknown option", a);
        else if (!o.dir) o.dir = a;
        else return usage("unexpected argument", a);
    }
    if (!o.dir) return usage("missing OUTDIR", NULL);
    if (!format) return usage("missing --format (csv, jsonl or raven)", NULL);
    bl_status s = bl_export_parse_format(format, &o.format);
    if (s != BL_OK) return usage("unknown --format", format);
    if (o.format == BL_EXPORT_RAVEN) o.table = BL_TABLE_EVENTS;
    if (table) {
        int t = bl_table_from_name(table);
        if (t < 0) return usage("unknown --table (segments, events, window_scores):", table);
        o.table = (bl_table_id)t;
    }
    long long rows = 0;
    s = bl_export_run(&o, &rows);
    if (s != BL_OK) return bl_cli_error(s, "export");
    if (o.out) BL_LOG_I("export: %lld %s row(s) written to %s", rows, bl_table_name(o.table), o.out);
    return BL_EXIT_OK;
}
