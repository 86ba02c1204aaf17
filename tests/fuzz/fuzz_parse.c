/*
 * fuzz_parse.c - libFuzzer target for the command-line parser every program shares
 * (parse_options and parse_long in common/harness.c), and for OMP_NUM_THREADS, the one
 * other input the programs parse.
 *
 * Input layout: byte 0 picks the program shape (model, --delay-ms or not, default workers,
 * error-buffer size, whether segment 0 is OMP_NUM_THREADS); the rest is argv, split at NUL
 * bytes. Each argument and the error buffer get their own exact-size heap block, so AddressSanitizer
 * sees any read or write one byte past them.
 *
 * Beyond "no crash, no sanitizer report" the target checks what the contract promises:
 *   - parse_long agrees with an independent strtol-based reference on every string;
 *   - PARSE_RUN leaves every option inside its documented range, naming a declared variant;
 *   - PARSE_ERROR leaves one non-empty line (no newline) inside the buffer, NUL-terminated;
 *   - PARSE_RUN only when every argument is a known flag or the value right after one.
 *
 * Build and run (make fuzz does this, bounded to FUZZ_SECONDS):
 *   clang -g -O1 -fsanitize=fuzzer,address,undefined tests/fuzz/fuzz_parse.c common/harness.c -o fuzz_parse
 *   ./fuzz_parse -max_total_time=30 -dict=tests/fuzz/parse.dict NEW_CORPUS_DIR tests/fuzz/corpus
 */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../common/harness.h"

enum { MAX_ARGS = 64 };

static const variant_doc cube_variants[] = {{"static", "a"}, {"dynamic", "b"}, {"guided", "c"}, {NULL, NULL}};
static const variant_doc counter_variants[] = {{"mutex", "a"}, {"spin", "b"}, {"atomic", "c"}, {"process", "d"},
                                               {NULL, NULL}};
static const variant_doc race_variants[] = {{"rma", "a"}, {NULL, NULL}};
/* every variant slot used: the lookup loop must stop at MAX_VARIANTS before the end marker */
static const variant_doc full_variants[] = {{"v0", "a"}, {"v1", "b"}, {"v2", "c"}, {"v3", "d"}, {"v4", "e"},
                                            {"v5", "f"}, {"v6", "g"}, {"v7", "h"}, {NULL, NULL}};

static const program_info infos[4] = {
    {.concept = "pool_cube", .model = "omp", .summary = "fuzz", .n_meaning = "n",
     VARIANT_DOCS(cube_variants), .takes_uneven = true,
     .default_n = 10, .max_n = 100000000000L, .default_workers = 0},
    {.concept = "counter", .model = "posix", .summary = "fuzz", .n_meaning = "n",
     VARIANT_DOCS(counter_variants),
     .default_n = 100, .max_n = 1000000000L, .default_workers = 2, .takes_delay = true,
     .default_delay_ms = 0},
    {.concept = "race", .model = "mpi", .summary = "fuzz", .n_meaning = "n",
     VARIANT_DOCS(race_variants),
     .default_n = 1, .max_n = 1000000L, .default_workers = 2, .takes_delay = true,
     .default_delay_ms = 100},
    {.concept = "full", .model = "omp", .summary = "fuzz", .n_meaning = "n",
     VARIANT_DOCS(full_variants),
     .default_n = 0, .max_n = LONG_MAX, .default_workers = 7},
};

static void require(int condition, const char *what)
{
    if (!condition) {
        fprintf(stderr, "fuzz_parse: invariant broken: %s\n", what);
        abort();
    }
}

/* What parse_long should do, written a second, different way. */
static int reference_parse_long(const char *text, long min, long max, long *out)
{
    if (text[0] < '0' || text[0] > '9') return 0;  /* strtol would take sign and spaces */
    for (const char *c = text; *c; c++)
        if (*c < '0' || *c > '9') return 0;
    errno = 0;
    char *end;
    long value = strtol(text, &end, 10);
    if (errno == ERANGE || *end != '\0') return 0;
    if (value < min || value > max) return 0;
    *out = value;
    return 1;
}

static int variant_count(const program_info *info)
{
    int count = 0;
    while (count < MAX_VARIANTS && variant_at(info, count) != NULL) count++;
    return count;
}

static int takes_value(const char *arg)
{
    return !strcmp(arg, "-n") || !strcmp(arg, "-w") || !strcmp(arg, "--variant") ||
           !strcmp(arg, "--delay-ms") || !strcmp(arg, "--trace");
}

static void check_parse_long(const char *text, uint8_t shape)
{
    static const long bounds[][2] = {{0, LONG_MAX}, {1, MAX_WORKERS}, {0, 60000}, {5, 5}};
    const long *b = bounds[shape % 4];
    long got = -7, want = -7;
    int ok = parse_long(text, b[0], b[1], &got);
    int ref = reference_parse_long(text, b[0], b[1], &want);
    require(ok == ref, "parse_long disagrees with the strtol reference");
    if (ok) require(got == want, "parse_long value differs from strtol");
    else require(got == -7, "parse_long wrote *out on failure");
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size == 0) return 0;
    uint8_t shape = data[0];
    const program_info *info = &infos[shape & 3];
    int env_from_input = (shape >> 2) & 1;
    size_t errlen = (shape >> 3) & 1 ? (size_t)(1 + ((shape >> 4) & 15)) : 256;

    /* argv[0] is the program; the input's NUL-separated segments follow */
    char *args[MAX_ARGS + 1];
    int argc = 0;
    args[argc++] = strdup("prog");
    const uint8_t *p = data + 1, *end = data + size;
    while (p <= end && argc < MAX_ARGS) {
        const uint8_t *nul = memchr(p, 0, (size_t)(end - p));
        size_t len = nul ? (size_t)(nul - p) : (size_t)(end - p);
        char *arg = malloc(len + 1);
        memcpy(arg, p, len);
        arg[len] = '\0';
        args[argc++] = arg;
        if (!nul) break;
        p = nul + 1;
    }
    args[argc] = NULL;

    int first_arg = 1;
    if (env_from_input && argc > 1) {
        setenv("OMP_NUM_THREADS", args[1], 1);
        first_arg = 2;
    } else {
        unsetenv("OMP_NUM_THREADS");
    }
    for (int i = first_arg; i < argc; i++) check_parse_long(args[i], shape >> 5);

    /* parse_options sees argv[0] and the arguments after the env segment */
    char **argv = args + (first_arg - 1);
    char *saved0 = argv[0];
    argv[0] = args[0];
    int pargc = argc - (first_arg - 1);

    char *err = malloc(errlen);
    memset(err, 'X', errlen);
    options opt;
    parse_status status = parse_options(info, pargc, argv, &opt, err, errlen);

    if (status == PARSE_ERROR) {
        require(memchr(err, '\0', errlen) != NULL, "error message not NUL-terminated");
        require(strchr(err, '\n') == NULL, "error message spans lines");
        require(errlen == 1 || err[0] != '\0', "error message empty");
    } else if (status == PARSE_RUN) {
        require(opt.n >= 0 && opt.n <= info->max_n, "n outside [0, max_n]");
        require(opt.workers >= 1 && opt.workers <= MAX_WORKERS, "workers outside [1, MAX_WORKERS]");
        require(opt.variant_index >= 0 && opt.variant_index < variant_count(info), "variant index");
        require(opt.variant == variant_at(info, opt.variant_index)->name, "variant name");
        require(opt.delay_ms >= 0 && opt.delay_ms <= 60000, "delay outside [0, 60000]");
        if (!info->takes_delay) require(opt.delay_ms == info->default_delay_ms, "delay accepted");
        if (!info->takes_uneven) require(!opt.uneven, "--uneven accepted where it is not used");
        for (int i = 1; i < pargc; i++) {
            if (!strcmp(argv[i], "--quiet")) continue;
            if (!strcmp(argv[i], "--uneven")) {
                require(info->takes_uneven, "--uneven accepted where it is not used");
                continue;
            }
            require(takes_value(argv[i]) && i + 1 < pargc, "unknown argument accepted");
            i++;
        }
    } else {
        require(status == PARSE_HELP, "unknown parse status");
    }

    argv[0] = saved0;
    free(err);
    for (int i = 0; i < argc; i++) free(args[i]);
    return 0;
}
