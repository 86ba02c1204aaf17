/*
 * test_harness.c - cmocka unit tests for common/harness.c: the parser refuses every kind of bad
 * input with a message, and every verifier catches a wrong element, a wrong sum, a duplicate and a
 * missing item (the verifiers print what differed to stderr; that output is expected here).
 */
#define _POSIX_C_SOURCE 200809L
#include <setjmp.h> /* cmocka needs these four before its header */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "../../common/harness.h"

static const variant_doc demo_variants[] = {{"first", "default"}, {"second", "other"}, {NULL, NULL}};
static const variant_doc one_variant[] = {{"only", "the one"}, {NULL, NULL}};

static const program_info demo = {
    .concept = "demo",
    .model = "posix",
    .summary = "test program",
    VARIANT_DOCS(demo_variants),
    .n_meaning = "size",
    .default_n = 10,
    .max_n = 1000,
    .default_workers = 2,
    .takes_delay = true,
    .default_delay_ms = 100,
};

static const program_info no_delay = {
    .concept = "nodelay",
    .model = "omp",
    .summary = "omp program without --delay-ms",
    VARIANT_DOCS(one_variant),
    .n_meaning = "size",
    .default_n = 5,
    .max_n = 50,
    .default_workers = 0,
};

/* Parses a NULL-terminated argument list (program name added). */
static parse_status parse(const program_info *info, options *opt, char *err, const char *arg0, ...)
{
    char *argv[32] = {"prog"};
    int argc = 1;
    va_list ap;
    va_start(ap, arg0);
    for (const char *a = arg0; a != NULL && argc < 31; a = va_arg(ap, const char *))
        argv[argc++] = (char *)a;
    va_end(ap);
    err[0] = '\0';
    return parse_options(info, argc, argv, opt, err, 256);
}

static void test_defaults(void **state)
{
    (void)state;
    options opt;
    char err[256];
    assert_int_equal(parse(&demo, &opt, err, NULL), PARSE_RUN);
    assert_int_equal(opt.n, 10);
    assert_int_equal(opt.workers, 2);
    assert_false(opt.workers_given);
    assert_string_equal(opt.variant, "first");
    assert_int_equal(opt.variant_index, 0);
    assert_int_equal(opt.delay_ms, 100);
    assert_false(opt.quiet);
}

static void test_every_flag(void **state)
{
    (void)state;
    options opt;
    char err[256];
    assert_int_equal(parse(&demo, &opt, err, "-n", "1000", "-w", "7", "--variant", "second",
                           "--delay-ms", "0", "--quiet", NULL), PARSE_RUN);
    assert_int_equal(opt.n, 1000);
    assert_int_equal(opt.workers, 7);
    assert_true(opt.workers_given);
    assert_string_equal(opt.variant, "second");
    assert_int_equal(opt.variant_index, 1);
    assert_int_equal(opt.delay_ms, 0);
    assert_true(opt.quiet);
    assert_int_equal(parse(&demo, &opt, err, "-n", "0", NULL), PARSE_RUN);
    assert_int_equal(opt.n, 0);
}

static void test_help(void **state)
{
    (void)state;
    options opt;
    char err[256];
    assert_int_equal(parse(&demo, &opt, err, "-h", NULL), PARSE_HELP);
    assert_int_equal(parse(&demo, &opt, err, "-n", "3", "--help", NULL), PARSE_HELP);
}

/* Each bad command line: refused, with a one-line message that names the culprit. */
static void test_refusals(void **state)
{
    (void)state;
    static const struct {
        const char *args[4];
        const char *mentions;
    } cases[] = {
        {{"-n", "abc"}, "abc"},
        {{"-n", "-5"}, "-5"},
        {{"-n", "+5"}, "+5"},
        {{"-n", "12x"}, "12x"},
        {{"-n", ""}, "-n"},
        {{"-n", " 7"}, " 7"},
        {{"-n", "0x10"}, "0x10"},
        {{"-n", "1e3"}, "1e3"},
        {{"-n", "1001"}, "1001"},                        /* past max_n */
        {{"-n", "99999999999999999999999"}, "9999999"},  /* overflows long */
        {{"-n"}, "needs a value"},
        {{"-w", "0"}, "-w"},
        {{"-w", "-1"}, "-w"},
        {{"-w", "1025"}, "1025"},                        /* past MAX_WORKERS */
        {{"-w"}, "needs a value"},
        {{"--variant", "third"}, "third"},
        {{"--variant"}, "needs a value"},
        {{"--delay-ms", "x"}, "x"},
        {{"--delay-ms", "60001"}, "60001"},
        {{"--bogus"}, "--bogus"},
        {{"-x"}, "-x"},
        {{"stray"}, "stray"},
        {{"-n", "5", "extra"}, "extra"},
    };
    for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
        options opt;
        char err[256];
        const char *const *a = cases[k].args;
        assert_int_equal(parse(&demo, &opt, err, a[0], a[1], a[2], a[3]), PARSE_ERROR);
        assert_non_null(strstr(err, cases[k].mentions));
        assert_null(strchr(err, '\n'));
    }
}

static void test_delay_refused_where_unused(void **state)
{
    (void)state;
    options opt;
    char err[256];
    unsetenv("OMP_NUM_THREADS");
    assert_int_equal(parse(&no_delay, &opt, err, "--delay-ms", "5", NULL), PARSE_ERROR);
    assert_non_null(strstr(err, "--delay-ms"));
}

static void test_omp_num_threads(void **state)
{
    (void)state;
    options opt;
    char err[256];
    unsetenv("OMP_NUM_THREADS");
    assert_int_equal(parse(&no_delay, &opt, err, NULL), PARSE_RUN);
    assert_int_equal(opt.workers, core_count());     /* default 0 means the core count */
    setenv("OMP_NUM_THREADS", "6", 1);
    assert_int_equal(parse(&no_delay, &opt, err, NULL), PARSE_RUN);
    assert_int_equal(opt.workers, 6);                /* OMP_NUM_THREADS replaces the default */
    setenv("OMP_NUM_THREADS", "4,2", 1);
    assert_int_equal(parse(&no_delay, &opt, err, NULL), PARSE_RUN);
    assert_int_equal(opt.workers, 4);                /* nested list: the first level */
    assert_int_equal(parse(&no_delay, &opt, err, "-w", "3", NULL), PARSE_RUN);
    assert_int_equal(opt.workers, 3);                /* -w beats both */
    assert_int_equal(parse(&demo, &opt, err, NULL), PARSE_RUN);
    assert_int_equal(opt.workers, 2);                /* posix programs ignore OMP_NUM_THREADS */
    setenv("OMP_NUM_THREADS", "lots", 1);
    assert_int_equal(parse(&no_delay, &opt, err, NULL), PARSE_ERROR);
    assert_non_null(strstr(err, "OMP_NUM_THREADS"));
    unsetenv("OMP_NUM_THREADS");
}

static void test_parse_long(void **state)
{
    (void)state;
    long v = -1;
    assert_true(parse_long("0", 0, 10, &v));
    assert_int_equal(v, 0);
    assert_true(parse_long("9223372036854775807", 0, 9223372036854775807L, &v));
    assert_false(parse_long("9223372036854775808", 0, 9223372036854775807L, &v));
    assert_false(parse_long("11", 0, 10, &v));
    assert_false(parse_long("0", 1, 10, &v));
    assert_false(parse_long(NULL, 0, 10, &v));
}

static void test_cube_checksum_closed_form(void **state)
{
    (void)state;
    uint64_t sum = 0;
    for (uint64_t n = 0; n < 3000; n++) {       /* against the plain sum */
        assert_true(cube_checksum_expected(n) == sum);
        sum += cube_u64(n);
    }
    assert_true(cube_checksum_expected(10) == 2025);
    assert_true(cube_checksum_expected(7) == 441);
    /* past 2642245 the cubes wrap: (n(n-1)/2)^2 mod 2^64, computed here with 128-bit integers */
    uint64_t n = 3000000000ULL;
    unsigned __int128 triangle = (unsigned __int128)n * (n - 1) / 2;
    assert_true(cube_checksum_expected(n) == (uint64_t)(triangle * triangle));
}

static void test_verify_cubes(void **state)
{
    (void)state;
    enum { N = 100 };
    uint64_t out[N], checksum;
    for (uint64_t i = 0; i < N; i++) out[i] = cube_u64(i);
    assert_true(verify_cubes(out, N, &checksum));
    assert_true(checksum == cube_checksum_expected(N));
    out[57] += 1; /* a wrong element */
    assert_false(verify_cubes(out, N, &checksum));
    out[57] = cube_u64(57);
    assert_true(verify_cubes(out, 0, &checksum));
    assert_true(checksum == 0);
}

static void test_verify_count_and_u64(void **state)
{
    (void)state;
    assert_true(verify_count("counter", 200, 200));
    assert_false(verify_count("counter", 200, 199)); /* a lost update: a wrong sum */
    assert_true(verify_u64("apply", UINT64_MAX, UINT64_MAX));
    assert_false(verify_u64("apply", 0, 1));
}

static void test_verify_array(void **state)
{
    (void)state;
    double values[4] = {2.0, 102.0, 202.0, 302.0}, checksum;
    assert_true(verify_array(values, 4, 2, &checksum));
    assert_true(checksum == 608.0);
    values[2] = 201.0; /* one addition lost */
    assert_false(verify_array(values, 4, 2, &checksum));
    values[2] = 202.0;
    assert_false(verify_array(values, 4, 3, &checksum)); /* every element one short */
}

static void test_verify_exactly_once(void **state)
{
    (void)state;
    long items[5] = {3, 1, 5, 2, 4};
    assert_true(verify_exactly_once(items, 5, 5));
    long duplicate[5] = {3, 1, 3, 2, 4};
    assert_false(verify_exactly_once(duplicate, 5, 5));
    long missing[4] = {3, 1, 2, 4};
    assert_false(verify_exactly_once(missing, 4, 5));
    long stranger[5] = {3, 1, 6, 2, 4};
    assert_false(verify_exactly_once(stranger, 5, 5));
    assert_true(verify_exactly_once(NULL, 0, 0));
}

static void test_verify_producers(void **state)
{
    (void)state;
    /* producer 0 squares, producer 1 negates; interleaved in any way is fine */
    produced_item good[6] = {{0, 1}, {1, -1}, {1, -2}, {0, 4}, {0, 9}, {1, -3}};
    assert_true(verify_producers(good, 6, 2, 3));
    produced_item reordered[6] = {{0, 1}, {1, -2}, {1, -1}, {0, 4}, {0, 9}, {1, -3}};
    assert_false(verify_producers(reordered, 6, 2, 3));
    produced_item duplicate[7] = {{0, 1}, {1, -1}, {1, -2}, {0, 4}, {0, 9}, {1, -3}, {1, -3}};
    assert_false(verify_producers(duplicate, 7, 2, 3));
    produced_item missing[5] = {{0, 1}, {1, -1}, {1, -2}, {0, 4}, {0, 9}};
    assert_false(verify_producers(missing, 5, 2, 3));
    produced_item wrong_value[6] = {{0, 1}, {1, -1}, {1, -2}, {0, 5}, {0, 9}, {1, -3}};
    assert_false(verify_producers(wrong_value, 6, 2, 3));
    produced_item unknown[1] = {{2, 1}};
    assert_false(verify_producers(unknown, 1, 2, 3));
}

/* A forked child that fails leaves with _exit(3): the stdio buffer it inherited from the parent
 * (here: text printed but not yet flushed) must not come out a second time through the child. */
static void test_forked_child_dies_without_flushing(void **state)
{
    (void)state;
    int out[2];
    assert_int_equal(pipe(out), 0);
    fflush(stdout);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        dup2(out[1], STDOUT_FILENO);
        int devnull = open("/dev/null", O_WRONLY);
        dup2(devnull, STDERR_FILENO);
        static char buffer[256];
        setvbuf(stdout, buffer, _IOFBF, sizeof buffer);
        printf("the parent's unflushed line\n");
        mark_forked_child();
        die_msg("a failure in a child");
    }
    close(out[1]);
    char got[256];
    ssize_t length = read(out[0], got, sizeof got);
    close(out[0]);
    int status = 0;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_true(WIFEXITED(status));
    assert_int_equal(WEXITSTATUS(status), EXIT_SYSTEM);
    assert_int_equal(length, 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_defaults),
        cmocka_unit_test(test_every_flag),
        cmocka_unit_test(test_help),
        cmocka_unit_test(test_refusals),
        cmocka_unit_test(test_delay_refused_where_unused),
        cmocka_unit_test(test_omp_num_threads),
        cmocka_unit_test(test_parse_long),
        cmocka_unit_test(test_cube_checksum_closed_form),
        cmocka_unit_test(test_verify_cubes),
        cmocka_unit_test(test_verify_count_and_u64),
        cmocka_unit_test(test_verify_array),
        cmocka_unit_test(test_verify_exactly_once),
        cmocka_unit_test(test_verify_producers),
        cmocka_unit_test(test_forked_child_dies_without_flushing),
    };
    return cmocka_run_group_tests_name("common/harness", tests, NULL, NULL);
}
