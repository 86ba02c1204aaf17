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
#include <inttypes.h>
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

/* ---- closed forms against brute force, past every overflow threshold (128-bit where a loop
 * would take too long) ---- */

typedef unsigned __int128 u128;

static void test_cube_checksum_past_the_wrap(void **state)
{
    (void)state;
    /* every n up to past 2642245, the first i whose cube wraps mod 2^64 */
    uint64_t sum = 0;
    for (uint64_t n = 0; n <= 2700000; n++) {
        if (cube_checksum_expected(n) != sum) fail_msg("cube checksum wrong at n = %" PRIu64, n);
        sum += cube_u64(n);
    }
    /* where n(n-1)/2 itself no longer fits: the halving must come before the product */
    const uint64_t large[] = {4294967296ULL, 4294967297ULL, 10000000000ULL, 6074001000ULL,
                              100000000001ULL};
    for (size_t k = 0; k < sizeof large / sizeof large[0]; k++) {
        uint64_t n = large[k];
        u128 triangle = (u128)n * (n - 1) / 2;
        assert_true(cube_checksum_expected(n) == (uint64_t)(triangle * triangle));
    }
}

static void test_square_sum_closed_form(void **state)
{
    (void)state;
    /* every n up to past 2.6e6, where n(n-1)(2n-1) leaves 64 bits, against square_it's own sum */
    uint64_t sum = 0;
    for (uint64_t n = 0; n <= 3100000; n++) {
        if (square_sum_expected(n) != sum) fail_msg("square sum wrong at n = %" PRIu64, n);
        sum += n * n;
    }
    assert_true(square_sum_expected(1000) == (uint64_t)square_it(1000));
    /* past 1e10 (spawn's max_n) and beyond: n(n-1)(2n-1)/6 exactly in 128 bits, then mod 2^64 */
    const uint64_t large[] = {3000000001ULL, 4294967296ULL, 9999999999ULL, 10000000000ULL,
                              10000000001ULL, 1000000000007ULL};
    for (size_t k = 0; k < sizeof large / sizeof large[0]; k++) {
        uint64_t n = large[k];
        u128 exact = (u128)n * (n - 1) * (2 * (u128)n - 1) / 6;
        assert_true(square_sum_expected(n) == (uint64_t)exact);
    }
}

static uint64_t producers_brute_force(int producers, long n)
{
    uint64_t sum = 0;
    for (int p = 0; p < producers; p++)
        for (long i = 1; i <= n; i++) sum += (uint64_t)producer_value(p, i);
    return sum;
}

static void test_producers_checksum(void **state)
{
    (void)state;
    for (int producers = 1; producers <= 6; producers++)
        for (long n = 0; n <= 400; n++)
            if (producers_checksum_expected(producers, n) != producers_brute_force(producers, n))
                fail_msg("producers checksum wrong at W = %d, n = %ld", producers, n);
    /* at the size limit: W x n = PRODUCERS_MAX_VALUES, in 128 bits (signed: odd producers negate) */
    const int counts[] = {1, 2, 3, 7, 1024};
    for (size_t k = 0; k < sizeof counts / sizeof counts[0]; k++) {
        int producers = counts[k];
        long n = PRODUCERS_MAX_VALUES / producers;
        assert_null(producers_refused(producers, n));
        __int128 squares = (__int128)n * (n + 1) * (2 * (__int128)n + 1) / 6;
        __int128 naturals = (__int128)n * (n + 1) / 2;
        __int128 exact = (producers + 1) / 2 * squares - producers / 2 * naturals;
        assert_true(producers_checksum_expected(producers, n) == (uint64_t)exact);
    }
    assert_non_null(producers_refused(2, PRODUCERS_MAX_VALUES)); /* one more than fits */
}

static void test_array_checksum(void **state)
{
    (void)state;
    /* shared_array's max_n (10^7) with MAX_WORKERS additions each: every partial sum an integer
     * below 2^53, so the double sum is exact and must equal the closed form exactly */
    const size_t sizes[] = {0, 1, 2, 3, 1000, 10000000};
    const int added[] = {0, 1, 2, MAX_WORKERS};
    for (size_t k = 0; k < sizeof sizes / sizeof sizes[0]; k++)
        for (size_t a = 0; a < sizeof added / sizeof added[0]; a++) {
            double sum = 0.0;
            for (size_t i = 0; i < sizes[k]; i++) sum += 100.0 * (double)i + added[a];
            assert_true(array_checksum_expected(sizes[k], added[a]) == sum);
        }
}

/* ---- verifiers: the first, a middle and the last element wrong, each alone ---- */

static void test_verify_cubes_every_position(void **state)
{
    (void)state;
    enum { N = 1000 };
    static uint64_t out[N];
    uint64_t checksum;
    const size_t positions[] = {0, 1, N / 2, N - 1};
    for (uint64_t i = 0; i < N; i++) out[i] = cube_u64(i);
    for (size_t k = 0; k < sizeof positions / sizeof positions[0]; k++) {
        size_t bad = positions[k];
        out[bad] += 5;
        if (verify_cubes(out, N, &checksum)) fail_msg("out[%zu] wrong went unseen", bad);
        out[bad] = cube_u64(bad);
    }
    assert_true(verify_cubes(out, N, &checksum));
}

static void test_verify_array_checksum_every_position(void **state)
{
    (void)state;
    enum { N = 50 };
    double values[N], expected, checksum;
    for (size_t i = 0; i < N; i++) values[i] = 100.0 * (double)i + 3;
    assert_true(verify_array_checksum(values, N, 3, &expected, &checksum));
    assert_true(expected == array_checksum_expected(N, 3) && checksum == expected);
    const size_t positions[] = {0, N / 2, N - 1};
    for (size_t k = 0; k < sizeof positions / sizeof positions[0]; k++) {
        size_t bad = positions[k];
        values[bad] -= 1.0; /* one addition lost */
        if (verify_array_checksum(values, N, 3, &expected, &checksum))
            fail_msg("element %zu one short went unseen", bad);
        values[bad] += 1.0;
    }
    assert_false(verify_array_checksum(values, N, 2, &expected, &checksum)); /* all one too many */
}

static void test_verify_exactly_once_each_fault_alone(void **state)
{
    (void)state;
    long duplicate_only[4] = {1, 2, 3, 3}; /* nothing missing: 1..3 all there, 3 twice */
    assert_false(verify_exactly_once(duplicate_only, 4, 3));
    long first_twice[4] = {1, 1, 2, 3};
    assert_false(verify_exactly_once(first_twice, 4, 3));
    long missing_only[2] = {1, 3}; /* nothing doubled */
    assert_false(verify_exactly_once(missing_only, 2, 3));
    long missing_first[2] = {2, 3};
    assert_false(verify_exactly_once(missing_first, 2, 3));
    long missing_last[2] = {1, 2};
    assert_false(verify_exactly_once(missing_last, 2, 3));
    long zero[3] = {0, 1, 2};
    assert_false(verify_exactly_once(zero, 3, 2));
}

static void test_verify_race(void **state)
{
    (void)state;
    assert_true(verify_race(0, 0));    /* no increments: the counter stays 0 */
    assert_false(verify_race(0, 1));
    assert_true(verify_race(200, 1));   /* every update but one lost: the demonstration */
    assert_true(verify_race(200, 200)); /* none lost */
    assert_false(verify_race(200, 0));   /* none kept */
    assert_false(verify_race(200, 201)); /* one invented */
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
        cmocka_unit_test(test_cube_checksum_past_the_wrap),
        cmocka_unit_test(test_square_sum_closed_form),
        cmocka_unit_test(test_producers_checksum),
        cmocka_unit_test(test_array_checksum),
        cmocka_unit_test(test_verify_cubes_every_position),
        cmocka_unit_test(test_verify_array_checksum_every_position),
        cmocka_unit_test(test_verify_exactly_once_each_fault_alone),
        cmocka_unit_test(test_verify_race),
    };
    return cmocka_run_group_tests_name("common/harness", tests, NULL, NULL);
}
