/* test_cli_args.c — the shared command-line parser (core/cli_args.c): any number of options
 * in any order, repeatable options collected in order, `--opt=value` and `--opt value`,
 * a repeated option named by both occurrences, missing values, values that are options,
 * flags given a value, unknown options with and without a "did you mean", -h, --, -.
 */
#include <stdio.h>  /* snprintf */
#include <stdlib.h> /* malloc */
#include <string.h> /* strstr, strcmp */

#include "core/cli_args.h"
#include "testutil.h"

/* The table of `baleen run`, plus a short-only option and a value-taking option whose
 * values may start with '-' (synth's --snr). */
enum { O_OUTPUT, O_SET, O_RESUME, O_DRY, O_BACKEND, O_THREADS, O_PROGRESS, O_X, O_SNR, N_O };
static const bl_cli_opt k_opts[N_O] = {
    [O_OUTPUT] = {"output", 'o', "DIR", false},      [O_SET] = {"set", 0, "key=value", true},
    [O_RESUME] = {"resume", 0, NULL, false},         [O_DRY] = {"dry-run", 0, NULL, false},
    [O_BACKEND] = {"backend", 0, "B", false},        [O_THREADS] = {"threads", 0, "N", false},
    [O_PROGRESS] = {"progress", 0, "P", false},      [O_X] = {NULL, 'x', NULL, false},
    [O_SNR] = {"snr", 0, "MIN:MAX", false},
};

/* Parse a NULL-terminated list of words (argv[0] = "run" is added). */
static bl_status parse(bl_cli_args *a, const char *const *words) {
    char *argv[64];
    int argc = 0;
    argv[argc++] = (char *)"run";
    for (; *words; words++) argv[argc++] = (char *)*words;
    return bl_cli_args_parse(k_opts, N_O, argc, argv, a);
}

#define PARSE(a, ...) parse((a), (const char *const[]){__VA_ARGS__, NULL})

static int has(const char *msg, const char *part) { return strstr(msg, part) != NULL; }

static int test_issue_example(void) {
    /* item 15 of issue 10: five value options; a second -o used to drop --progress json */
    bl_cli_args a;
    bl_status s = PARSE(&a, "cfg.yaml", "-o", "A", "--backend", "cpu", "--threads", "2", "--progress", "json", "-o", "B");
    const char *m = bl_error_message();
    BL_CHECK(s == BL_ERR_USAGE, "a second -o must be refused, got %s", bl_errname(s));
    BL_CHECK(has(m, "given twice") && has(m, "'-o A' (argument 2)") && has(m, "'-o B' (argument 10)") &&
                 has(m, "give it once"),
             "message: %s", m);
    BL_CHECK(a.hits == NULL && a.pos == NULL, "a failed parse leaves nothing allocated");
    bl_cli_args_free(&a); /* harmless */

    s = PARSE(&a, "cfg.yaml", "-o", "A", "--backend", "cpu", "--threads", "2", "--progress", "json", "--dry-run");
    BL_REQUIRE(s == BL_OK, "%s", bl_error_message());
    BL_CHECK(a.n_pos == 1 && !strcmp(a.pos[0], "cfg.yaml") && a.pos_arg[0] == 1, "positional");
    BL_CHECK(a.hits[O_OUTPUT].count == 1 && !strcmp(a.hits[O_OUTPUT].value, "A") && !strcmp(a.hits[O_OUTPUT].typed, "-o") &&
                 a.hits[O_OUTPUT].arg == 2,
             "-o");
    BL_CHECK(!strcmp(a.hits[O_BACKEND].value, "cpu") && !strcmp(a.hits[O_THREADS].value, "2") &&
                 !strcmp(a.hits[O_PROGRESS].value, "json"),
             "every value kept");
    BL_CHECK(a.hits[O_DRY].count == 1 && a.hits[O_DRY].value == NULL && a.hits[O_RESUME].count == 0, "flags");
    BL_CHECK(!a.help, "no help");
    bl_cli_args_free(&a);
    return 0;
}

static int test_many_options(void) {
    /* 3000 --set in both forms, mixed with the other options and positionals: all kept, in order */
    enum { N = 3000 };
    int argc = 0;
    char **argv = malloc((2 * N + 16) * sizeof *argv);
    char(*vals)[32] = malloc(N * sizeof *vals);
    BL_REQUIRE(argv && vals, "out of memory");
    argv[argc++] = (char *)"run";
    for (int i = 0; i < N; i++) {
        if (i == 7) argv[argc++] = (char *)"first.yaml";
        if (i == 100) argv[argc++] = (char *)"--threads=4";
        if (i % 2) {
            snprintf(vals[i], sizeof vals[i], "--set=k%d=%d", i, i);
            argv[argc++] = vals[i];
        } else {
            snprintf(vals[i], sizeof vals[i], "k%d=%d", i, i);
            argv[argc++] = (char *)"--set";
            argv[argc++] = vals[i];
        }
    }
    argv[argc++] = (char *)"second";
    bl_cli_args a;
    BL_REQUIRE(bl_cli_args_parse(k_opts, N_O, argc, argv, &a) == BL_OK, "%s", bl_error_message());
    BL_CHECK(a.hits[O_SET].count == N, "count %d", a.hits[O_SET].count);
    int bad = 0;
    for (int i = 0; i < N && a.hits[O_SET].values; i++) {
        char want[32];
        snprintf(want, sizeof want, "k%d=%d", i, i);
        bad += strcmp(a.hits[O_SET].values[i], want) != 0;
    }
    BL_CHECK(bad == 0, "%d --set values out of order or wrong", bad);
    BL_CHECK(!strcmp(a.hits[O_SET].value, a.hits[O_SET].values[N - 1]), "value is the last");
    BL_CHECK(a.n_pos == 2 && !strcmp(a.pos[0], "first.yaml") && !strcmp(a.pos[1], "second"), "positionals");
    BL_CHECK(!strcmp(a.hits[O_THREADS].value, "4") && !strcmp(a.hits[O_THREADS].typed, "--threads"), "--threads=4");
    bl_cli_args_free(&a);
    free(vals);
    free(argv);
    return 0;
}

static int test_forms(void) {
    bl_cli_args a;
    BL_REQUIRE(PARSE(&a, "--output=x=y", "--set=a.b=[1, 2]", "--set", "c=d", "--snr", "-5:15", "-", "--backend=") == BL_OK,
               "%s", bl_error_message());
    BL_CHECK(!strcmp(a.hits[O_OUTPUT].value, "x=y") && !strcmp(a.hits[O_OUTPUT].typed, "--output"), "= form keeps later =");
    BL_CHECK(a.hits[O_SET].count == 2 && !strcmp(a.hits[O_SET].values[0], "a.b=[1, 2]") &&
                 !strcmp(a.hits[O_SET].values[1], "c=d"),
             "--set both forms");
    BL_CHECK(!strcmp(a.hits[O_SNR].value, "-5:15"), "a value may start with '-'");
    BL_CHECK(a.n_pos == 1 && !strcmp(a.pos[0], "-"), "- is positional");
    BL_CHECK(a.hits[O_BACKEND].count == 1 && !strcmp(a.hits[O_BACKEND].value, ""), "--backend= is an empty value");
    bl_cli_args_free(&a);

    /* -- ends the options */
    BL_REQUIRE(PARSE(&a, "-x", "--", "-o", "--resume", "--") == BL_OK, "%s", bl_error_message());
    BL_CHECK(a.hits[O_X].count == 1 && !strcmp(a.hits[O_X].typed, "-x"), "-x");
    BL_CHECK(a.n_pos == 3 && !strcmp(a.pos[0], "-o") && !strcmp(a.pos[1], "--resume") && !strcmp(a.pos[2], "--") &&
                 a.pos_arg[0] == 3,
             "after --");
    BL_CHECK(a.hits[O_OUTPUT].count == 0 && a.hits[O_RESUME].count == 0, "no options after --");
    bl_cli_args_free(&a);

    /* nothing at all */
    BL_REQUIRE(PARSE(&a, NULL) == BL_OK, "%s", bl_error_message());
    BL_CHECK(a.n_pos == 0 && !a.help && a.hits[O_OUTPUT].count == 0, "empty");
    bl_cli_args_free(&a);
    return 0;
}

static int test_repeats(void) {
    bl_cli_args a;
    BL_CHECK(PARSE(&a, "-o", "A", "x.yaml", "--output=B") == BL_ERR_USAGE, "-o and --output are one option");
    const char *m = bl_error_message();
    BL_CHECK(has(m, "-o/--output given twice") && has(m, "'-o A' (argument 1)") && has(m, "'--output=B' (argument 4)"),
             "%s", m);
    BL_CHECK(PARSE(&a, "--resume", "--dry-run", "--resume") == BL_ERR_USAGE, "a flag twice");
    m = bl_error_message();
    BL_CHECK(has(m, "--resume given twice") && has(m, "(argument 1)") && has(m, "(argument 3)"), "%s", m);
    BL_CHECK(PARSE(&a, "-x", "-x") == BL_ERR_USAGE && has(bl_error_message(), "-x given twice"), "%s",
             bl_error_message());
    /* a long value is shortened in the message, not the message cut off */
    char big[3000];
    memset(big, 'a', sizeof big - 1);
    big[sizeof big - 1] = '\0';
    BL_CHECK(PARSE(&a, "--threads", big, "--threads", "2") == BL_ERR_USAGE, "big repeat");
    m = bl_error_message();
    BL_CHECK(has(m, "...' (argument 1)") && has(m, "'--threads 2' (argument 3); give it once"), "%s", m);
    return 0;
}

static int test_missing_values(void) {
    bl_cli_args a;
    BL_CHECK(PARSE(&a, "x.yaml", "--threads") == BL_ERR_USAGE, "last option without its value");
    const char *m = bl_error_message();
    BL_CHECK(has(m, "--threads needs a value") && has(m, "--threads N") && has(m, "argument 2"), "%s", m);
    BL_CHECK(PARSE(&a, "-o") == BL_ERR_USAGE && has(bl_error_message(), "-o needs a value: -o DIR"), "%s",
             bl_error_message());
    /* the next word is an option: it is not taken as the value */
    BL_CHECK(PARSE(&a, "-o", "--resume", "x.yaml") == BL_ERR_USAGE, "-o --resume");
    m = bl_error_message();
    BL_CHECK(has(m, "-o needs a value") && has(m, "argument 2 is the option '--resume'") && has(m, "--output=--resume"),
             "%s", m);
    BL_CHECK(PARSE(&a, "--backend", "-h") == BL_ERR_USAGE, "-h is no value");
    BL_CHECK(PARSE(&a, "--set", "--threads=3") == BL_ERR_USAGE, "--threads=3 is no value");
    /* ... but the = form takes anything */
    BL_REQUIRE(PARSE(&a, "--output=--resume") == BL_OK, "%s", bl_error_message());
    BL_CHECK(!strcmp(a.hits[O_OUTPUT].value, "--resume") && a.hits[O_RESUME].count == 0, "--output=--resume");
    bl_cli_args_free(&a);
    /* a flag takes no value */
    BL_CHECK(PARSE(&a, "--resume=yes") == BL_ERR_USAGE, "--resume=yes");
    m = bl_error_message();
    BL_CHECK(has(m, "--resume takes no value") && has(m, "'--resume=yes'"), "%s", m);
    return 0;
}

static int test_unknown(void) {
    bl_cli_args a;
    BL_CHECK(PARSE(&a, "x.yaml", "--thread", "2") == BL_ERR_USAGE, "--thread");
    const char *m = bl_error_message();
    BL_CHECK(has(m, "unknown option --thread") && has(m, "argument 2") && has(m, "did you mean --threads?"), "%s", m);
    BL_CHECK(PARSE(&a, "--dryrun") == BL_ERR_USAGE && has(bl_error_message(), "did you mean --dry-run?"), "%s",
             bl_error_message());
    BL_CHECK(PARSE(&a, "-output", "x") == BL_ERR_USAGE && has(bl_error_message(), "did you mean --output?"), "%s",
             bl_error_message());
    BL_CHECK(PARSE(&a, "--progres=json") == BL_ERR_USAGE && has(bl_error_message(), "did you mean --progress?"), "%s",
             bl_error_message());
    BL_CHECK(PARSE(&a, "--bogus") == BL_ERR_USAGE, "--bogus");
    m = bl_error_message();
    BL_CHECK(has(m, "unknown option --bogus") && !has(m, "did you mean"), "no far-fetched hint: %s", m);
    BL_CHECK(PARSE(&a, "-q") == BL_ERR_USAGE && has(bl_error_message(), "unknown option -q"), "%s", bl_error_message());
    BL_CHECK(PARSE(&a, "-oA") == BL_ERR_USAGE, "no -oVALUE");
    BL_CHECK(PARSE(&a, "-xx") == BL_ERR_USAGE, "no bundling");
    /* an unknown option's name is shortened in the message */
    char big[2000] = "--";
    memset(big + 2, 'z', sizeof big - 3);
    big[sizeof big - 1] = '\0';
    BL_CHECK(PARSE(&a, big) == BL_ERR_USAGE && has(bl_error_message(), "zzz... (argument 1)"), "%s", bl_error_message());
    return 0;
}

static int test_help(void) {
    bl_cli_args a;
    BL_REQUIRE(PARSE(&a, "x.yaml", "-o", "A", "--help", "--bogus") == BL_OK, "%s", bl_error_message());
    BL_CHECK(a.help, "--help stops parsing: what follows is not looked at");
    bl_cli_args_free(&a);
    BL_REQUIRE(PARSE(&a, "-h") == BL_OK && a.help, "-h");
    bl_cli_args_free(&a);
    BL_CHECK(PARSE(&a, "--bogus", "--help") == BL_ERR_USAGE, "an error before --help is reported");
    BL_CHECK(PARSE(&a, "--help=1") == BL_OK && a.help, "--help=x is help too");
    bl_cli_args_free(&a);
    return 0;
}

static int test_table_and_numbers(void) {
    static const bl_cli_opt bad[] = {{NULL, 0, "V", false}};
    bl_cli_args a;
    char *argv[] = {(char *)"cmd"};
    BL_CHECK(bl_cli_args_parse(bad, 1, 1, argv, &a) == BL_ERR_INTERNAL, "a row without a name is a bug");
    static const bl_cli_opt long_name[] = {{"a-very-long-option-name-that-does-not-fit-the-hit", 0, NULL, false}};
    BL_CHECK(bl_cli_args_parse(long_name, 1, 1, argv, &a) == BL_ERR_INTERNAL, "too long a name is a bug");
    BL_CHECK(bl_cli_args_parse(k_opts, N_O, 1, argv, NULL) == BL_ERR_INVALID_ARG, "no result");

    long l = -1;
    BL_CHECK(bl_cli_parse_long("42", 0, 100, &l) && l == 42, "42");
    BL_CHECK(!bl_cli_parse_long("101", 0, 100, &l) && !bl_cli_parse_long("-1", 0, 100, &l), "range");
    BL_CHECK(!bl_cli_parse_long("", 0, 100, &l) && !bl_cli_parse_long("4x", 0, 100, &l) &&
                 !bl_cli_parse_long("99999999999999999999999", 0, 100, &l) && !bl_cli_parse_long(NULL, 0, 1, &l),
             "junk");
    double d = 0;
    BL_CHECK(bl_cli_parse_double("-2.5e1", &d) && d == -25, "number");
    BL_CHECK(!bl_cli_parse_double("inf", &d) && !bl_cli_parse_double("nan", &d) && !bl_cli_parse_double("1e999", &d) &&
                 !bl_cli_parse_double("", &d) && !bl_cli_parse_double("3 ", &d),
             "not finite numbers");
    return 0;
}

int main(void) {
    bl_test_failures += test_issue_example(); /* 1 when a BL_REQUIRE stopped it */
    bl_test_failures += test_many_options(); /* 1 when a BL_REQUIRE stopped it */
    bl_test_failures += test_forms(); /* 1 when a BL_REQUIRE stopped it */
    bl_test_failures += test_repeats(); /* 1 when a BL_REQUIRE stopped it */
    bl_test_failures += test_missing_values(); /* 1 when a BL_REQUIRE stopped it */
    bl_test_failures += test_unknown(); /* 1 when a BL_REQUIRE stopped it */
    bl_test_failures += test_help(); /* 1 when a BL_REQUIRE stopped it */
    bl_test_failures += test_table_and_numbers(); /* 1 when a BL_REQUIRE stopped it */
    return bl_test_finish("test_cli_args");
}
